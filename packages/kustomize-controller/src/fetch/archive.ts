// Safe extraction of an artifact tarball. The archive is streamed (gunzip on the thread pool, one chunk in memory at a
// time) and every cap is checked as the bytes and entries arrive, so a decompression bomb is stopped at the cap
// instead of filling memory or blocking the event loop. Paths follow the rules of vet.ts: nothing is written outside
// `dest`, and no write follows a symlink, because symlinks are created only after every file, then checked by the
// kernel's own resolution (realpath): any that resolves outside `dest`, dangles or loops refuses the artifact.

import { constants, createReadStream } from "node:fs";
import { copyFile, mkdir, open, realpath, symlink } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { createGunzip } from "node:zlib";
import { KustomizationReasons } from "@capstan/api";
import { ReconcileError } from "@capstan/runtime";
import { readTar, type TarEntry, TarFormatError } from "./tar-reader.js";
import { ArchiveVetter } from "./vet.js";

export interface ExtractLimits {
  /** Total bytes of file content after decompression (--artifact-max-extracted-size). */
  maxBytes: number;
  /** Entries of any kind (--artifact-max-entries). */
  maxEntries: number;
  /** Bytes of one file (--artifact-max-file-size). */
  maxFileBytes: number;
}

const MiB = 1024 * 1024;

export const defaultExtractLimits: ExtractLimits = { maxBytes: 256 * MiB, maxEntries: 20_000, maxFileBytes: 32 * MiB };

/** Tar framing per entry on top of its content: header, pax header, padding. Legitimate archives stay well under. */
const framingPerEntry = 3 * 1024;

/** An artifact refused for what it holds: the same digest will always be refused (the fetcher remembers it). */
export class ArchiveRefusedError extends ReconcileError {
  constructor(message: string) {
    super(message, { reason: KustomizationReasons.ArtifactFailed });
    this.name = "ArchiveRefusedError";
  }
}

export function formatBytes(n: number): string {
  for (const [unit, size] of [
    ["GiB", 1024 * MiB],
    ["MiB", MiB],
    ["KiB", 1024],
  ] as const) {
    if (n >= size && n % size === 0) return `${n / size} ${unit}`;
  }
  return `${n} bytes`;
}

/** "…the cap of 256 MiB (268435456 bytes; raise it with --artifact-max-extracted-size)". */
export function capText(value: number, flag: string, bytes = true): string {
  const human = formatBytes(value);
  const shown = bytes ? `${human}${human.endsWith("bytes") ? "" : ` (${value} bytes)`}` : String(value);
  return `the cap of ${shown}; raise it with --${flag}`;
}

function refused(reason: string): ArchiveRefusedError {
  return new ArchiveRefusedError(`refusing artifact archive: ${reason}`);
}

async function isGzip(file: string): Promise<boolean> {
  const fh = await open(file, "r");
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** The decompressed stream, counted as it comes: over `max` bytes it fails (the caller tears the streams down). */
async function* metered(source: AsyncIterable<Buffer>, max: number, limits: ExtractLimits): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of source) {
    total += chunk.length;
    if (total > max) {
      throw refused(
        `the archive decompresses to more than ${formatBytes(max)}, beyond the content cap of ` +
          `${formatBytes(limits.maxBytes)} plus tar framing (raise it with --artifact-max-extracted-size)`,
      );
    }
    yield chunk;
  }
}

const createFlags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Writes a body into a new file; O_EXCL and O_NOFOLLOW: never through a symlink, never over an existing file. */
async function writeBody(path: string, body: AsyncIterable<Buffer> | Buffer): Promise<void> {
  const fh = await open(path, createFlags, 0o644);
  try {
    if (Buffer.isBuffer(body)) await fh.writeFile(body);
    else for await (const chunk of body) await fh.writeFile(chunk);
  } finally {
    await fh.close();
  }
}

/** Files up to this size are read whole and written concurrently (a repository is mostly small files). */
const smallFile = 128 * 1024;
const concurrentWrites = 16;

/** Up to `concurrentWrites` small-file writes in flight: memory stays under 2 MiB, the thread pool stays busy. */
class Writes {
  private readonly inflight = new Set<Promise<void>>();
  private failure: unknown;

  async add(write: Promise<void>): Promise<void> {
    const tracked = write.then(
      () => undefined,
      (err: unknown) => {
        this.failure ??= err;
      },
    );
    this.inflight.add(tracked);
    void tracked.finally(() => this.inflight.delete(tracked));
    if (this.inflight.size >= concurrentWrites) await Promise.race(this.inflight);
    this.check();
  }

  async drain(): Promise<void> {
    await Promise.all(this.inflight);
    this.check();
  }

  private check(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}

async function collect(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(c);
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

function inside(root: string, abs: string): boolean {
  const rel = relative(root, abs);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !rel.startsWith(sep));
}

const parentOf = (rel: string) => (rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : "");

/** One extraction's state: what is created, counted and left to link. */
class Extraction {
  private readonly vetter = new ArchiveVetter();
  private readonly dirs = new Set<string>([""]);
  readonly writes = new Writes();
  private readonly symlinks: { path: string; target: string }[] = [];
  private entries = 0;
  private content = 0;

  constructor(
    private readonly root: string,
    private readonly limits: ExtractLimits,
  ) {}

  async add(entry: TarEntry, body: () => AsyncGenerator<Buffer>): Promise<void> {
    const { limits, root } = this;
    if (++this.entries > limits.maxEntries)
      throw refused(
        `it holds more than ${limits.maxEntries} entries, ${capText(limits.maxEntries, "artifact-max-entries", false)}`,
      );
    const verdict = this.vetter.vet(entry);
    if (!verdict.ok) throw refused(verdict.reason);
    switch (verdict.kind) {
      case "root":
        return;
      case "dir":
        return this.ensureDir(verdict.path);
      case "file":
        this.count(entry.size, verdict.path);
        await this.ensureDir(parentOf(verdict.path));
        if (entry.size <= smallFile) await this.writes.add(writeBody(join(root, verdict.path), await collect(body())));
        else await writeBody(join(root, verdict.path), body());
        return;
      case "hardlink":
        return this.hardLink(verdict.path, verdict.target);
      case "symlink":
        this.symlinks.push(verdict);
        return;
    }
  }

  /** A copy, counted again: a thousand links to one large file must not dodge the content cap. */
  private async hardLink(path: string, target: string): Promise<void> {
    await this.writes.drain(); // its target may still be in flight
    const fh = await open(join(this.root, target), constants.O_RDONLY | constants.O_NOFOLLOW);
    const { size } = await fh.stat().finally(() => fh.close());
    this.count(size, path);
    await this.ensureDir(parentOf(path));
    await copyFile(join(this.root, target), join(this.root, path), constants.COPYFILE_EXCL);
  }

  private count(bytes: number, path: string): void {
    const { limits } = this;
    if (bytes > limits.maxFileBytes)
      throw refused(`file '${path}' is ${bytes} bytes, over ${capText(limits.maxFileBytes, "artifact-max-file-size")}`);
    this.content += bytes;
    if (this.content > limits.maxBytes)
      throw refused(`its content exceeds ${capText(limits.maxBytes, "artifact-max-extracted-size")} (at '${path}')`);
  }

  private async ensureDir(rel: string): Promise<void> {
    if (this.dirs.has(rel)) return;
    // recursive mkdir never meets a symlink here: none exists until every file is written.
    await mkdir(join(this.root, rel), { recursive: true, mode: 0o755 });
    for (let p = rel; p && !this.dirs.has(p); p = parentOf(p)) this.dirs.add(p);
  }

  /** Every file is written: only now may symlinks exist. The kernel then decides where each one leads. */
  async linkAndCheck(): Promise<void> {
    try {
      for (const link of this.symlinks) {
        await this.ensureDir(parentOf(link.path));
        await symlink(link.target, join(this.root, link.path));
      }
    } catch (cause) {
      throw new ReconcileError(`failed to extract artifact archive: ${(cause as Error).message}`, {
        reason: KustomizationReasons.ArtifactFailed,
        cause,
      });
    }
    for (const link of this.symlinks) {
      let resolved: string;
      try {
        resolved = await realpath(join(this.root, link.path));
      } catch (cause) {
        const code = (cause as NodeJS.ErrnoException).code;
        const why = code === "ELOOP" ? "is part of a symlink loop" : "points to nothing in the archive";
        throw refused(`symlink '${link.path}' -> '${link.target}' ${why}`);
      }
      if (!inside(this.root, resolved))
        throw refused(`symlink '${link.path}' -> '${link.target}' resolves outside the archive root`);
    }
  }
}

function asArtifactError(cause: unknown): ReconcileError {
  if (cause instanceof ReconcileError) return cause;
  if (cause instanceof TarFormatError) return refused(cause.message);
  const code = (cause as NodeJS.ErrnoException).code;
  if (code === "Z_DATA_ERROR" || code === "Z_BUF_ERROR")
    return refused(`invalid gzip data: ${(cause as Error).message}`);
  return new ReconcileError(`failed to extract artifact archive: ${(cause as Error).message}`, {
    reason: KustomizationReasons.ArtifactFailed,
    cause,
  });
}

/**
 * Extracts `file` (a gzip-compressed or plain tarball) into `dest` (created; it must not exist or be empty). Throws
 * ArchiveRefusedError naming the rule or cap at fault, a ReconcileError (ArtifactFailed) for I/O failures. On failure `dest` may hold a
 * partial tree the caller removes; nothing outside it is ever touched.
 */
export async function extractArchive(
  file: string,
  dest: string,
  limits: ExtractLimits = defaultExtractLimits,
): Promise<void> {
  await mkdir(dest, { recursive: true });
  const extraction = new Extraction(await realpath(dest), limits);
  const input = createReadStream(file, { highWaterMark: 64 * 1024 });
  const gunzip = (await isGzip(file)) ? createGunzip({ chunkSize: 64 * 1024 }) : undefined;
  if (gunzip) {
    input.on("error", (err) => gunzip.destroy(err));
    input.pipe(gunzip);
  }
  const streamCap = limits.maxBytes + (limits.maxEntries + 2) * framingPerEntry;
  try {
    for await (const { entry, body } of readTar(metered(gunzip ?? input, streamCap, limits))) {
      await extraction.add(entry, body);
    }
    await extraction.writes.drain();
  } catch (cause) {
    await extraction.writes.drain().catch(() => undefined);
    throw asArtifactError(cause);
  } finally {
    input.destroy();
    gunzip?.destroy();
  }
  await extraction.linkAndCheck();
}
