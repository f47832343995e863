// Chart artifacts kept by digest, so a chart is downloaded and verified once per digest rather than once per install
// or upgrade (N HelmReleases of one chart version, or one release retried, fetch it once). Files are named after the
// artifact's sha256 only (nothing a tenant writes reaches a path) and hold exactly the bytes that matched that digest;
// they are written to a temporary name and renamed, and checked against the digest again when used, so a torn or
// altered file is never handed to helm (it is dropped and downloaded again). Bounded: total bytes and entries, least
// recently used out first. Concurrent misses for one digest share one download. A pass gets a hard link of the file
// in its own scratch directory (a copy where links fail), so an eviction meanwhile cannot pull the chart from under
// a running helm. The cache directory is emptied when the controller starts: nothing from an earlier process is
// trusted.
import { createHash, randomBytes } from "node:crypto";
import { copyFile, link, mkdir, readFile, rename, rm, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type ChartArtifact, ChartFetchError, downloadChart, type FetchChartOptions } from "./fetch.js";

export interface ChartCacheOptions {
  /** A directory the controller owns, on the filesystem of the scratch directories (hard links). */
  dir: string;
  /** Most bytes kept; a chart larger than this is not kept. */
  maxBytes: number;
  /** Most charts kept. */
  maxEntries?: number;
  /** The download (fetch.ts's, or a test's). */
  download?: (artifact: ChartArtifact, options: FetchChartOptions) => Promise<Buffer>;
}

const hexOf = (digest: string) => /^sha256:([a-f0-9]{64})$/.exec(digest)?.[1];

export class ChartCache {
  readonly #o: Required<Omit<ChartCacheOptions, "download">>;
  readonly #download: (artifact: ChartArtifact, options: FetchChartOptions) => Promise<Buffer>;
  /** Kept charts by sha256 hex and their sizes; Map order is the LRU order (oldest first). */
  readonly #entries = new Map<string, number>();
  #bytes = 0;
  /** Downloads in flight by digest and URL: concurrent misses share one. */
  readonly #inFlight = new Map<string, Promise<Buffer>>();
  #ready: Promise<void> | undefined;

  constructor(o: ChartCacheOptions) {
    this.#o = { dir: o.dir, maxBytes: o.maxBytes, maxEntries: o.maxEntries ?? 1000 };
    this.#download = o.download ?? downloadChart;
  }

  /** Charts kept now, and their total size. */
  get stats(): { entries: number; bytes: number } {
    return { entries: this.#entries.size, bytes: this.#bytes };
  }

  /** Empties the directory once, before first use. */
  #init(): Promise<void> {
    this.#ready ??= (async () => {
      await rm(this.#o.dir, { recursive: true, force: true });
      await mkdir(this.#o.dir, { recursive: true, mode: 0o700 });
    })();
    return this.#ready;
  }

  #path(hex: string): string {
    return join(this.#o.dir, `${hex}.tgz`);
  }

  /**
   * Puts the chart of `artifact` at `dest` (a new file in a pass's scratch directory): from the cache when it holds
   * the digest, else downloaded, verified and kept. Says which: `download` only for the pass whose download it was
   * (passes that waited for another's say `cache`). Throws ChartFetchError as the download does.
   */
  async fetchTo(artifact: ChartArtifact, dest: string, options: FetchChartOptions): Promise<"cache" | "download"> {
    const hex = hexOf(artifact.digest);
    if (!hex) throw new ChartFetchError(`unsupported artifact digest '${artifact.digest.slice(0, 80)}'`);
    await this.#init();
    if (this.#entries.has(hex) && (await this.#linkVerified(hex, dest, options.maxBytes))) return "cache";
    const { bytes, mine } = await this.#shared(hex, artifact, options);
    if (!this.#entries.has(hex) || !(await this.#linkVerified(hex, dest, options.maxBytes))) {
      // Not kept (larger than the cache, or evicted at once): the pass gets its own copy of the verified bytes.
      await writeFile(dest, bytes, { mode: 0o600 });
    }
    return mine ? "download" : "cache";
  }

  /** One download per digest and URL at a time; the verified bytes are kept before waiters read them. */
  async #shared(
    hex: string,
    artifact: ChartArtifact,
    options: FetchChartOptions,
  ): Promise<{ bytes: Buffer; mine: boolean }> {
    const key = `${hex} ${artifact.url}`;
    const running = this.#inFlight.get(key);
    if (running) return { bytes: await running, mine: false };
    const p = (async () => {
      const bytes = await this.#download(artifact, options);
      await this.#keep(hex, bytes);
      return bytes;
    })().finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, p);
    return { bytes: await p, mine: true };
  }

  async #keep(hex: string, bytes: Buffer): Promise<void> {
    if (bytes.length > this.#o.maxBytes || this.#entries.has(hex)) return;
    const tmp = join(this.#o.dir, `.${hex}.${randomBytes(6).toString("hex")}.tmp`);
    try {
      await writeFile(tmp, bytes, { mode: 0o600 });
      await rename(tmp, this.#path(hex));
    } catch (err) {
      await rm(tmp, { force: true });
      throw new Error("chart cache: write", { cause: err });
    }
    this.#entries.set(hex, bytes.length);
    this.#bytes += bytes.length;
    await this.#evict();
  }

  async #evict(): Promise<void> {
    for (const [hex, size] of this.#entries) {
      if (this.#bytes <= this.#o.maxBytes && this.#entries.size <= this.#o.maxEntries) return;
      this.#drop(hex, size);
      await unlink(this.#path(hex)).catch(() => undefined);
    }
  }

  #drop(hex: string, size: number): void {
    if (this.#entries.delete(hex)) this.#bytes -= size;
  }

  /**
   * Links (or copies) the kept file to `dest` and checks the linked bytes against the digest; false, with the entry
   * dropped, when the file is gone or does not match. The check reads the pass's own link, so what is checked is
   * what helm will read.
   */
  async #linkVerified(hex: string, dest: string, maxBytes: number): Promise<boolean> {
    const size = this.#entries.get(hex);
    if (size === undefined) return false;
    // Most recently used goes last.
    this.#entries.delete(hex);
    this.#entries.set(hex, size);
    try {
      await link(this.#path(hex), dest).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") throw err;
        await copyFile(this.#path(hex), dest);
      });
      const bytes = await readFile(dest);
      if (bytes.length <= maxBytes && createHash("sha256").update(bytes).digest("hex") === hex) return true;
    } catch {
      // Gone or unreadable: downloaded again below.
    }
    await rm(dest, { force: true });
    this.#drop(hex, size);
    await unlink(this.#path(hex)).catch(() => undefined);
    return false;
  }
}
