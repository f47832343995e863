// The selected layer of an artifact: which one (layerSelector.mediaType, else the first), and its extraction. A layer
// is hostile input: it must be a gzip-compressed tarball; paths are confined to the target directory (absolute paths
// and '..' are refused), only regular files and directories are written (links and devices are skipped, as Flux's
// untar skips them), and the extracted bytes and entry count are bounded.
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open } from "node:fs/promises";
import { dirname, isAbsolute, join, normalize, relative, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import tarStream from "tar-stream";
import type { Descriptor } from "./client.js";
import { OciError } from "./errors.js";

export interface ExtractLimits {
  maxBytes: number;
  maxEntries: number;
}

export function selectLayer(layers: readonly Descriptor[], mediaType: string | undefined, digest: string): Descriptor {
  const layer = mediaType ? layers.find((l) => l.mediaType === mediaType) : layers[0];
  if (!layer) {
    throw new OciError(
      "layer",
      mediaType
        ? `failed to find layer with media type '${mediaType}' in artifact ${digest}`
        : `no layers found in artifact ${digest}`,
    );
  }
  return layer;
}

async function isGzip(file: string): Promise<boolean> {
  const fh = await open(file, "r");
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

function confined(root: string, name: string): string | undefined {
  if (isAbsolute(name) || name.split("/").includes("..")) return undefined;
  const abs = join(root, normalize(name));
  const rel = relative(root, abs);
  if (rel === "" || rel.startsWith(`..${sep}`) || rel === ".." || isAbsolute(rel)) return rel === "" ? root : undefined;
  return abs;
}

/** Extracts the gzip tarball `file` into `dir` (which exists), within the limits. */
export async function extractLayer(file: string, dir: string, limits: ExtractLimits): Promise<void> {
  if (!(await isGzip(file))) throw new OciError("layer", "failed to extract layer: not a gzip-compressed tarball");
  const extract = tarStream.extract();
  let bytes = 0;
  let entries = 0;
  extract.on("entry", (header, stream, next) => {
    // Destroying the extractor destroys the entry stream with the same error: the pipeline reports it once, and an
    // entry stream without a listener would make it an uncaught exception that ends the process.
    stream.on("error", () => undefined);
    const fail = (message: string) => {
      stream.resume();
      extract.destroy(new OciError("layer", `failed to extract layer: ${message}`));
    };
    entries++;
    if (entries > limits.maxEntries) return fail(`more than ${limits.maxEntries} entries`);
    const target = confined(dir, header.name);
    if (!target) return fail(`entry '${header.name.slice(0, 200)}' leaves the extraction directory`);
    if (header.type === "directory") {
      mkdir(target, { recursive: true }).then(
        () => {
          stream.resume();
          next();
        },
        (err: Error) => fail(err.message),
      );
      return;
    }
    if (header.type !== "file" && header.type !== "contiguous-file") {
      stream.resume();
      stream.on("end", () => next());
      return;
    }
    bytes += header.size ?? 0;
    if (bytes > limits.maxBytes) return fail(`extracted content exceeds ${limits.maxBytes} bytes`);
    mkdir(dirname(target), { recursive: true })
      .then(() => pipeline(stream, createWriteStream(target, { mode: (header.mode ?? 0o644) & 0o100 ? 0o755 : 0o644 })))
      .then(
        () => next(),
        (err: Error) => fail(err.message),
      );
  });
  try {
    await pipeline(createReadStream(file), createGunzip(), extract);
  } catch (err) {
    if (err instanceof OciError) throw err;
    throw new OciError("layer", `failed to extract layer: ${(err as Error).message}`, { cause: err });
  }
}
