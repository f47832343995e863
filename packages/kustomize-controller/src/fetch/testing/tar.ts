// Test-only: writes tarballs exactly as described, hostile ones included (absolute paths, `..`, devices, links with
// any target, a header declaring more than its body holds), which no well-behaved tar writer would produce.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip, gzipSync } from "node:zlib";
import { Header } from "tar";

export interface RawEntry {
  path: string;
  type?:
    | "File"
    | "Directory"
    | "SymbolicLink"
    | "Link"
    | "CharacterDevice"
    | "BlockDevice"
    | "FIFO"
    | "GlobalExtendedHeader"
    | "ExtendedHeader";
  /** File content. */
  body?: string | Buffer;
  linkpath?: string;
  /** Declared size when it should differ from the body (a lie). */
  size?: number;
}

function block(e: RawEntry): Buffer {
  const body = typeof e.body === "string" ? Buffer.from(e.body) : (e.body ?? Buffer.alloc(0));
  const size = e.size ?? body.length;
  const h = new Header({
    path: e.path,
    type: e.type ?? "File",
    size,
    mode: e.type === "Directory" ? 0o755 : 0o644,
    mtime: new Date(0),
    uid: 0,
    gid: 0,
    ...(e.linkpath !== undefined ? { linkpath: e.linkpath } : {}),
  });
  const out = Buffer.alloc(512);
  h.encode(out, 0);
  const pad = (512 - (body.length % 512)) % 512;
  return Buffer.concat([out, body, Buffer.alloc(pad)]);
}

/** An uncompressed tar of the entries, ended by the two zero blocks. */
export function tar(entries: RawEntry[]): Buffer {
  return Buffer.concat([...entries.map(block), Buffer.alloc(1024)]);
}

export function tgz(entries: RawEntry[]): Buffer {
  return gzipSync(tar(entries));
}

/**
 * A gzip stream of the segments, compressed without ever holding them: a number stands for that many zero bytes
 * (about 1 KiB of gzip per MiB), so a bomb of gigabytes is cheap to make.
 */
export async function gzipSegments(segments: Iterable<Uint8Array | number>): Promise<Buffer> {
  const chunk = Buffer.alloc(1024 * 1024);
  async function* bytes() {
    for (const s of segments) {
      if (typeof s !== "number") yield s;
      else
        for (let left = s; left > 0; left -= chunk.length) yield left >= chunk.length ? chunk : chunk.subarray(0, left);
    }
  }
  const parts: Buffer[] = [];
  await pipeline(Readable.from(bytes()), createGzip({ level: 9 }), async (source: AsyncIterable<Buffer>) => {
    for await (const c of source) parts.push(c);
  });
  return Buffer.concat(parts);
}

/** A tar header block alone: what precedes a body of `size` bytes. */
export function headerBlock(entry: RawEntry): Buffer {
  return tar([entry]).subarray(0, 512);
}

export async function gzipOfZeros(bytes: number, prefix: Uint8Array = Buffer.alloc(0)): Promise<Buffer> {
  return gzipSegments([prefix, bytes]);
}
