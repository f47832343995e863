// Downloads the artifact a source publishes in status, with retries and backoff, verifies its digest, extracts it
// safely and caches the extracted tree by digest, so a revision is fetched once however often it is reconciled.

import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { KustomizationReasons } from "@capstan/api";
import { ReconcileError } from "@capstan/runtime";
import { LRUCache } from "lru-cache";
import pRetry, { AbortError } from "p-retry";
import { ArchiveRefusedError, capText, defaultExtractLimits, type ExtractLimits, extractArchive } from "./archive.js";
import { hasherFor, parseDigest } from "./digest.js";

export interface Artifact {
  url: string;
  digest?: string;
  revision?: string;
}

export interface FetcherOptions {
  cacheDir: string;
  /** Attempts after the first (Flux's --http-retry, default 9). */
  retries?: number;
  /** First backoff delay; it doubles each attempt up to maxBackoffMs. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Per-attempt timeout. */
  timeoutMs?: number;
  /** Compressed download size cap (--artifact-max-size). */
  maxDownloadBytes?: number;
  extractLimits?: ExtractLimits;
}

class HttpStatusError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/** The URL without query or credentials: what may appear in messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "<invalid url>";
  }
}

/** Default of --artifact-max-size: compressed artifacts of real repositories are a few MiB. */
export const defaultMaxDownloadBytes = 64 * 1024 * 1024;

export class ArtifactFetcher {
  private readonly inflight = new Map<string, Promise<string>>();
  /**
   * Digests whose content was refused (a path rule or a cap): content-addressed, so they would be refused again.
   * Remembering them keeps every retry of every Kustomization on a hostile source from downloading and inflating it
   * anew. The caps are flags, so a restart with higher ones forgets.
   */
  private readonly refused = new LRUCache<string, ArchiveRefusedError>({ max: 1000 });
  constructor(private readonly options: FetcherOptions) {}

  private dirFor(hex: string, algorithm: string): string {
    return join(this.options.cacheDir, `${algorithm}-${hex}`);
  }

  /** The extracted directory for this artifact, downloading it unless cached. Never write into the result. */
  async fetch(artifact: Artifact, signal?: AbortSignal): Promise<string> {
    if (!artifact.digest)
      throw new ReconcileError("artifact has no digest; refusing an unverifiable download", {
        reason: KustomizationReasons.ArtifactFailed,
      });
    const d = parseDigest(artifact.digest);
    const dir = this.dirFor(d.hex, d.algorithm);
    if (await isComplete(dir)) return dir;
    const key = `${d.algorithm}:${d.hex}`;
    const known = this.refused.get(refusalKey(artifact.digest));
    if (known) throw new ArchiveRefusedError(known.message);
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.download(artifact.url, artifact.digest, dir, signal).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  /** Drops cached artifacts other than the digests to keep (those of live sources). */
  async evictExcept(keep: Iterable<string>): Promise<void> {
    const wanted = new Set([...keep].map((k) => k.replace(":", "-")));
    const entries = await readdir(this.options.cacheDir).catch(() => [] as string[]);
    await Promise.all(
      entries
        .filter((e) => !e.startsWith(".") && !wanted.has(e))
        .map((e) => rm(join(this.options.cacheDir, e), { recursive: true, force: true })),
    );
  }

  private async download(url: string, digest: string, dir: string, signal?: AbortSignal): Promise<string> {
    await mkdir(this.options.cacheDir, { recursive: true });
    const tmp = await mkdtemp(join(this.options.cacheDir, ".tmp-"));
    try {
      const file = join(tmp, "artifact.tar.gz");
      await pRetry(() => this.downloadOnce(url, digest, file, signal), {
        retries: this.options.retries ?? 9,
        minTimeout: this.options.minBackoffMs ?? 1000,
        maxTimeout: this.options.maxBackoffMs ?? 30_000,
        factor: 2,
        signal,
      }).catch((cause: unknown) => {
        if (cause instanceof ReconcileError) throw cause;
        throw new ReconcileError(`failed to download artifact from ${redact(url)}: ${(cause as Error).message}`, {
          reason: KustomizationReasons.ArtifactFailed,
          cause,
        });
      });
      const extracted = join(tmp, "tree");
      await extractArchive(file, extracted, this.options.extractLimits ?? defaultExtractLimits).catch(
        (err: unknown) => {
          if (err instanceof ArchiveRefusedError) this.refused.set(refusalKey(digest), err);
          throw err;
        },
      );
      await writeFile(join(extracted, ".capstan-complete"), digest);
      await rename(extracted, dir).catch(async (cause: NodeJS.ErrnoException) => {
        // Another process filled the cache first: theirs is as good as ours.
        if (!(await isComplete(dir))) throw cause;
      });
      return dir;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  private async downloadOnce(url: string, digest: string, file: string, signal?: AbortSignal): Promise<void> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 60_000);
    const res = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      const err = new HttpStatusError(res.status);
      // 4xx other than 404/429 will not get better by retrying; 404 can be a source that is mid-rotation.
      if (res.status >= 400 && res.status < 500 && res.status !== 404 && res.status !== 429) throw new AbortError(err);
      throw err;
    }
    const d = parseDigest(digest);
    const hash = hasherFor(d);
    const max = this.options.maxDownloadBytes ?? defaultMaxDownloadBytes;
    const declared = Number(res.headers.get("content-length") ?? Number.NaN);
    if (declared > max) {
      await res.body.cancel();
      throw new AbortError(
        new ReconcileError(`artifact download exceeds ${capText(max, "artifact-max-size")}`, {
          reason: KustomizationReasons.ArtifactFailed,
        }),
      );
    }
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > max) {
          return cb(
            new AbortError(
              new ReconcileError(`artifact download exceeds ${capText(max, "artifact-max-size")}`, {
                reason: KustomizationReasons.ArtifactFailed,
              }),
            ),
          );
        }
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(res.body), meter, createWriteStream(file));
    const got = hash.digest("hex");
    if (got !== d.hex) {
      // The server answered completely with other bytes: retrying would fetch the same ones (Flux does not retry).
      throw new AbortError(
        new ReconcileError(
          `failed to verify artifact: computed digest ${d.algorithm}:${got} doesn't match '${digest}'`,
          { reason: KustomizationReasons.ArtifactFailed },
        ),
      );
    }
  }
}

function refusalKey(digest: string): string {
  const d = parseDigest(digest);
  return `${d.algorithm}:${d.hex}`;
}

async function isComplete(dir: string): Promise<boolean> {
  return (await stat(join(dir, ".capstan-complete")).catch(() => undefined))?.isFile() === true;
}
