// Tarballs in memory, bounded: a gzip'd tar (a chart package, or a GitRepository artifact) becomes a map of regular
// files by POSIX path, and a chart (a map of files under one directory) becomes a Helm chart package. Nothing is
// written to disk and nothing in an archive is executed: symlinks, hard links and devices are never followed or
// created (they are skipped), names that are absolute or climb out with '..' are refused.
import { posix } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, gzipSync } from "node:zlib";
import tarStream from "tar-stream";

export interface TarLimits {
  /** Largest single file, decompressed. */
  maxFileBytes: number;
  /** Largest total of all files, decompressed. */
  maxTotalBytes: number;
  /** Most entries. */
  maxEntries?: number;
  /** Keeps only the files this accepts (the others are skipped without being buffered). */
  keep?: (path: string) => boolean;
}

export class ArchiveError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ArchiveError";
  }
}

/** Normalizes an archive entry name; undefined when it is unsafe (absolute, or escaping with '..'). */
export function safeEntryName(name: string): string | undefined {
  if (name.startsWith("/") || name.includes("\\") || name.includes("\0")) return undefined;
  const n = posix.normalize(name).replace(/\/+$/, "");
  if (n === "." || n === "") return "";
  if (n === ".." || n.startsWith("../")) return undefined;
  return n;
}

/** Reads a tar.gz into a map of regular files (path → bytes). */
export async function readTarGz(bytes: Buffer | Readable, limits: TarLimits): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const extract = tarStream.extract();
  let total = 0;
  let entries = 0;
  const maxEntries = limits.maxEntries ?? 10_000;
  extract.on("entry", (header, stream, next) => {
    entries++;
    if (entries > maxEntries) {
      stream.resume();
      extract.destroy(new ArchiveError(`archive has more than ${maxEntries} entries`));
      return;
    }
    const name = safeEntryName(header.name);
    if (name === undefined) {
      stream.resume();
      extract.destroy(new ArchiveError(`archive entry '${header.name}' is outside the archive root`));
      return;
    }
    if (header.type !== "file" || name === "" || (limits.keep && !limits.keep(name))) {
      stream.on("end", () => next());
      stream.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on("data", (data: unknown) => {
      const c = data as Buffer;
      size += c.length;
      total += c.length;
      if (size > limits.maxFileBytes) {
        extract.destroy(
          new ArchiveError(`file '${name}' exceeds the maximum file size of ${limits.maxFileBytes} bytes`),
        );
        return;
      }
      if (total > limits.maxTotalBytes) {
        extract.destroy(
          new ArchiveError(`archive exceeds the maximum decompressed size of ${limits.maxTotalBytes} bytes`),
        );
        return;
      }
      chunks.push(c);
    });
    stream.on("end", () => {
      files.set(name, Buffer.concat(chunks));
      next();
    });
  });
  const source = Buffer.isBuffer(bytes) ? Readable.from([bytes]) : bytes;
  try {
    await pipeline(source, createGunzip(), extract);
  } catch (err) {
    if (err instanceof ArchiveError) throw err;
    throw new ArchiveError(`not a gzip'd tar archive: ${(err as Error).message}`, { cause: err });
  }
  return files;
}

/** Writes files (paths relative to the archive root) as a tar.gz, sorted, with fixed modes and owners. */
export async function writeTarGz(files: ReadonlyMap<string, Buffer>, mtime = new Date()): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const name of [...files.keys()].sort()) {
    const content = files.get(name) ?? Buffer.alloc(0);
    await new Promise<void>((resolve, reject) => {
      pack.entry({ name, size: content.length, mode: 0o644, mtime, type: "file" }, content, (err) =>
        err ? reject(err) : resolve(),
      );
    });
  }
  pack.finalize();
  await collected;
  return gzipSync(Buffer.concat(chunks));
}
