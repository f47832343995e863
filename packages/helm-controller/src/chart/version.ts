// A chart package with its version rewritten: what Flux's helm-controller does to a chart from an OCIRepository (the
// manifest digest becomes build metadata, so a tag pushed again with new content is a new release). The package is
// hostile input and never unpacked to disk: it is gunzipped within a bound, its tar blocks walked in memory, and only
// the top-level `<chart>/Chart.yaml` replaced (header size and checksum recomputed); every other entry is copied byte
// for byte. Nothing in the archive is interpreted beyond the tar headers and Chart.yaml.
import { gunzipSync, gzipSync } from "node:zlib";
import { isMap, parseDocument } from "yaml";

export class ChartVersionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ChartVersionError";
  }
}

const block = 512;

function octal(field: Buffer): number {
  if ((field[0] ?? 0) & 0x80) throw new ChartVersionError("chart archive: base-256 sizes are not supported");
  const text = field.toString("latin1").replace(/\0.*$/s, "").trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new ChartVersionError("chart archive: malformed tar header");
  return Number.parseInt(text, 8);
}

function checksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < block; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
  return sum;
}

function cString(buf: Buffer): string {
  const nul = buf.indexOf(0);
  return buf.subarray(0, nul === -1 ? buf.length : nul).toString("utf8");
}

/** PAX records ("<len> key=value\n") of an extended header. */
function paxRecords(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  const text = data.toString("utf8");
  let i = 0;
  while (i < text.length) {
    const space = text.indexOf(" ", i);
    const len = Number(text.slice(i, space));
    if (space < 0 || !Number.isInteger(len) || len <= 0) break;
    const record = text.slice(space + 1, i + len - 1);
    const eq = record.indexOf("=");
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    i += len;
  }
  return out;
}

export interface ChartYamlEdit {
  /** The version Chart.yaml states. */
  version: string;
  /** Chart.yaml with the new version. */
  rewrite: (version: string) => Buffer;
}

/** Reads Chart.yaml's version and offers it rewritten (the rest of the document kept as written). */
export function editChartYaml(content: Buffer): ChartYamlEdit {
  const doc = parseDocument(content.toString("utf8"));
  if (doc.errors.length > 0 || !isMap(doc.contents)) {
    throw new ChartVersionError("chart archive: Chart.yaml is not a YAML map");
  }
  const version = doc.get("version");
  if (typeof version !== "string" && typeof version !== "number") {
    throw new ChartVersionError("chart archive: Chart.yaml has no version");
  }
  return {
    version: String(version),
    rewrite: (v) => {
      doc.set("version", v);
      return Buffer.from(doc.toString());
    },
  };
}

function gunzipBounded(tgz: Buffer, maxBytes: number): Buffer {
  try {
    return gunzipSync(tgz, { maxOutputLength: maxBytes });
  } catch (cause) {
    throw new ChartVersionError(
      (cause as { code?: string }).code === "ERR_BUFFER_TOO_LARGE"
        ? `chart archive is larger than ${maxBytes} bytes decompressed`
        : "chart archive is not gzip-compressed",
      { cause },
    );
  }
}

/** What extended headers (PAX 'x', GNU 'L') say about the next entry. */
interface Pending {
  name?: string;
  paxSize: boolean;
}

const metaTypes = new Set(["x", "g", "L", "K"]);

function readMeta(type: string, data: Buffer, pending: Pending): void {
  if (type === "x") {
    const records = paxRecords(data);
    if (records.path !== undefined) pending.name = records.path;
    pending.paxSize = records.size !== undefined;
  } else if (type === "L") {
    pending.name = cString(data);
  }
}

function entryName(header: Buffer, pending: Pending): string {
  const prefix = cString(header.subarray(345, 500));
  const short = cString(header.subarray(0, 100));
  return (pending.name ?? (prefix ? `${prefix}/${short}` : short)).replace(/^\.\//, "");
}

/** The header and padded content of a regular file entry holding `content` instead. */
function replaced(header: Buffer, content: Buffer): Buffer[] {
  const h = Buffer.from(header);
  h.write(`${content.length.toString(8).padStart(11, "0")}\0`, 124, 12, "latin1");
  h.write(`${checksum(h).toString(8).padStart(6, "0")}\0 `, 148, 8, "latin1");
  return [h, content, Buffer.alloc((block - (content.length % block)) % block)];
}

/**
 * Calls `edit` with the top-level Chart.yaml of the package and returns the package with the Chart.yaml it returns.
 * `maxBytes` bounds the decompressed archive.
 */
export function rewriteChartYaml(tgz: Buffer, maxBytes: number, edit: (chartYaml: Buffer) => Buffer): Buffer {
  const tar = gunzipBounded(tgz, maxBytes);
  const out: Buffer[] = [];
  let offset = 0;
  let pending: Pending = { paxSize: false };
  let done = false;
  while (offset + block <= tar.length) {
    const header = tar.subarray(offset, offset + block);
    if (header.every((b) => b === 0)) {
      out.push(tar.subarray(offset));
      break;
    }
    if (octal(header.subarray(148, 156)) !== checksum(header)) {
      throw new ChartVersionError("chart archive: tar header checksum mismatch");
    }
    const size = octal(header.subarray(124, 136));
    const padded = Math.ceil(size / block) * block;
    if (offset + block + padded > tar.length) throw new ChartVersionError("chart archive: truncated tar entry");
    const data = tar.subarray(offset + block, offset + block + size);
    const type = String.fromCharCode(header[156] ?? 0);
    if (metaTypes.has(type)) {
      readMeta(type, data, pending);
      out.push(tar.subarray(offset, offset + block + padded));
    } else {
      const regular = type === "0" || type === "\0";
      if (!done && regular && /^[^/]+\/Chart\.yaml$/.test(entryName(header, pending))) {
        if (pending.paxSize) throw new ChartVersionError("chart archive: a PAX size for Chart.yaml is not supported");
        out.push(...replaced(header, edit(Buffer.from(data))));
        done = true;
      } else {
        out.push(tar.subarray(offset, offset + block + padded));
      }
      pending = { paxSize: false };
    }
    offset += block + padded;
  }
  if (!done) throw new ChartVersionError("chart archive: Chart.yaml file is missing");
  return gzipSync(Buffer.concat(out));
}
