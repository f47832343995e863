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

type Fields = Record<string, unknown> | undefined;

/** The local (pax `x`, GNU `L`/`K`) value of a field over the global (pax `g`) one. */
function pick(key: string, ex: Fields, gex: Fields): unknown {
  return ex?.[key] ?? gex?.[key];
}

/** Folds a metadata header into the fields that apply to the next entry (local) or to all that follow (global). */
function applyMeta(type: string, text: string, ex: Fields, gex: Fields): { ex: Fields; gex: Fields } {
  switch (type) {
    case "ExtendedHeader":
      return { ex: { ...Pax.parse(text, ex as never, false) }, gex };
    case "GlobalExtendedHeader":
      return { ex, gex: { ...Pax.parse(text, gex as never, true) } };
    case "NextFileHasLongPath":
      return { ex: { ...ex, path: text.replace(/\0.*/s, "") }, gex };
    default:
      return { ex: { ...ex, linkpath: text.replace(/\0.*/s, "") }, gex };
  }
}

function sizeOf(header: Header, ex: Fields, gex: Fields): number {
  const size = (pick("size", ex, gex) as number | undefined) ?? header.size;
  if (size === undefined || !Number.isSafeInteger(size) || size < 0)
    throw new TarFormatError(`invalid tar header: bad size for '${header.path ?? ""}'`);
  return size;
}

/** An entry's body, read from the archive as asked for; what is left unread is skipped by the reader. */
class Body {
  remain: number;
  constructor(
    private readonly bytes: Bytes,
    private readonly entry: TarEntry,
  ) {
    this.remain = entry.size;
  }

  async *read(): AsyncGenerator<Buffer> {
    while (this.remain > 0) {
      const c = await this.bytes.chunk(Math.min(this.remain, 1024 * 1024));
      if (!c) throw new TarFormatError(`truncated archive: '${this.entry.path}' ends early`);
      this.remain -= c.length;
      yield c;
    }
  }
}

/**
 * Yields each file-system entry with a `body` to read it; a body the consumer leaves unread is skipped (read and
 * dropped, never buffered). Stops at the end-of-archive marker without reading what follows it.
 */
export async function* readTar(
  source: AsyncIterable<Buffer>,
): AsyncGenerator<{ entry: TarEntry; body: () => AsyncGenerator<Buffer> }> {
  const bytes = new Bytes(source[Symbol.asyncIterator]());
  let ex: Fields;
  let gex: Fields;
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
    const size = sizeOf(header, ex, gex);

    if (metaTypes.has(type)) {
      if (size > maxMetaBytes)
        throw new TarFormatError(`${type} header of ${size} bytes is larger than ${maxMetaBytes}`);
      const body = size > 0 ? await bytes.read(size) : Buffer.alloc(0);
      if (!body) throw new TarFormatError("truncated archive");
      await bytes.skip(padding(size));
      ({ ex, gex } = applyMeta(type, body.toString("utf8"), ex, gex));
      continue;
    }

    const entry: TarEntry = {
      path: String(pick("path", ex, gex) ?? header.path ?? ""),
      type,
      size,
      linkpath: (pick("linkpath", ex, gex) as string | undefined) ?? header.linkpath,
    };
    ex = undefined;
    const body = new Body(bytes, entry);
    yield { entry, body: () => body.read() };
    await bytes.skip(body.remain + padding(size));
  }
}
