// A streaming tar reader: entries one at a time, each body read straight from the (already decompressed) input as the
// consumer asks for it, so memory holds one chunk and a header at a time whatever the archive declares. node-tar's
// Parser is not used for the stream because it sniffs and inflates nested gzip/zstd synchronously on the event loop
// (a gzip inside the gzip would be a bomb again) and buffers what its consumer has not read; its Header and Pax
// classes still decode the blocks.
import { Header, Pax } from "tar";

export interface TarEntry {
  path: string;
  /** node-tar's type name: File, Directory, SymbolicLink, Link, CharacterDevice… */
  type: string;
  /** Body size the header declares. */
  size: number;
  linkpath: string | undefined;
}

export class TarFormatError extends Error {
  override name = "TarFormatError";
}

/** pax and GNU long-name headers describe the next entry; they are held in memory, so they are bounded. */
const maxMetaBytes = 1024 * 1024;
const metaTypes = new Set(["ExtendedHeader", "GlobalExtendedHeader", "NextFileHasLongPath", "NextFileHasLongLinkpath"]);

/** Exact-length reads over an async source of chunks. */
class Bytes {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  constructor(private readonly source: AsyncIterator<Buffer>) {}

  private async fill(n: number): Promise<void> {
    while (this.buffered < n && !this.ended) {
      const next = await this.source.next();
      if (next.done) this.ended = true;
      else if (next.value.length > 0) {
        this.chunks.push(next.value);
        this.buffered += next.value.length;
      }
    }
  }

  /** Up to `max` bytes (at least one), or undefined at the end of the input. */
  async chunk(max: number): Promise<Buffer | undefined> {
    await this.fill(1);
    const first = this.chunks[0];
    if (!first) return undefined;
    if (first.length <= max) {
      this.chunks.shift();
      this.buffered -= first.length;
      return first;
    }
    this.chunks[0] = first.subarray(max);
    this.buffered -= max;
    return first.subarray(0, max);
  }

  /** Exactly n bytes, or undefined if the input ends first. */
  async read(n: number): Promise<Buffer | undefined> {
    await this.fill(n);
    if (this.buffered < n) return undefined;
    const parts: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const c = (await this.chunk(need)) as Buffer;
      parts.push(c);
      need -= c.length;
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, n);
  }

  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      const c = await this.chunk(left);
      if (!c) throw new TarFormatError("truncated archive");
      left -= c.length;
    }
  }
}

const padding = (size: number) => (512 - (size % 512)) % 512;

/**
 * Yields each file-system entry with a `body` to read it; a body the consumer leaves unread is skipped (read and
 * dropped, never buffered). Stops at the end-of-archive marker without reading what follows it.
 */
export async function* readTar(
  source: AsyncIterable<Buffer>,
): AsyncGenerator<{ entry: TarEntry; body: () => AsyncGenerator<Buffer> }> {
  const bytes = new Bytes(source[Symbol.asyncIterator]());
  let ex: Record<string, unknown> | undefined;
  let gex: Record<string, unknown> | undefined;
  let sawNull = false;
  for (;;) {
    const block = await bytes.read(512);
    if (!block) throw new TarFormatError("truncated archive: no end-of-archive marker");
    const header = new Header(block, 0, ex as never, gex as never);
    if (header.nullBlock) {
      if (sawNull) return;
      sawNull = true;
      continue;
    }
    sawNull = false;
    if (!header.cksumValid) throw new TarFormatError("invalid tar header (checksum mismatch)");
    const type = header.type;
    const size = (ex?.size as number | undefined) ?? (gex?.size as number | undefined) ?? header.size;
    if (size === undefined || !Number.isSafeInteger(size) || size < 0)
      throw new TarFormatError(`invalid tar header: bad size for '${header.path ?? ""}'`);

    if (metaTypes.has(type)) {
      if (size > maxMetaBytes)
        throw new TarFormatError(`${type} header of ${size} bytes is larger than ${maxMetaBytes}`);
      const body = size > 0 ? await bytes.read(size) : Buffer.alloc(0);
      if (!body) throw new TarFormatError("truncated archive");
      await bytes.skip(padding(size));
      const text = body.toString("utf8");
      if (type === "ExtendedHeader") ex = { ...Pax.parse(text, ex as never, false) };
      else if (type === "GlobalExtendedHeader") gex = { ...Pax.parse(text, gex as never, true) };
      else if (type === "NextFileHasLongPath") ex = { ...ex, path: text.replace(/\0.*/s, "") };
      else ex = { ...ex, linkpath: text.replace(/\0.*/s, "") };
      continue;
    }

    const entry: TarEntry = {
      path: ((ex?.path as string | undefined) ?? (gex?.path as string | undefined) ?? header.path ?? "").toString(),
      type,
      size,
      linkpath: (ex?.linkpath as string | undefined) ?? (gex?.linkpath as string | undefined) ?? header.linkpath,
    };
    ex = undefined;
    let remain = size;
    const body = async function* (): AsyncGenerator<Buffer> {
      while (remain > 0) {
        const c = await bytes.chunk(Math.min(remain, 1024 * 1024));
        if (!c) throw new TarFormatError(`truncated archive: '${entry.path}' ends early`);
        remain -= c.length;
        yield c;
      }
    };
    yield { entry, body };
    await bytes.skip(remain + padding(size));
  }
}
