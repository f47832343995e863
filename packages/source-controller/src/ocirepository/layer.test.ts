// Layers are hostile input: extraction stays inside its directory, is bounded, and refuses what is not a gzip tarball.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import tarStream from "tar-stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { extractLayer, selectLayer } from "./layer.js";

type Entry = { name: string; content?: string; type?: "file" | "directory" | "symlink"; linkname?: string };

async function tarGz(entries: Entry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on("data", (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((r) => pack.on("end", () => r()));
  for (const e of entries) {
    pack.entry(
      { name: e.name, type: e.type ?? "file", ...(e.linkname ? { linkname: e.linkname } : {}) },
      e.content ?? "",
    );
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "capstan-layer-"));
  await mkdir(join(dir, "out"));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const limits = { maxBytes: 1024, maxEntries: 10 };
async function extract(bytes: Buffer) {
  await writeFile(join(dir, "layer"), bytes);
  return extractLayer(join(dir, "layer"), join(dir, "out"), limits);
}

describe("extractLayer", () => {
  it("Given a gzip tarball / should write its files and directories, skipping links", async () => {
    await extract(
      await tarGz([
        { name: "deploy/", type: "directory" },
        { name: "deploy/app.yaml", content: "a: 1\n" },
        { name: "link", type: "symlink", linkname: "/etc/passwd" },
      ]),
    );
    expect(await readFile(join(dir, "out/deploy/app.yaml"), "utf8")).toBe("a: 1\n");
    expect((await readdir(join(dir, "out"))).sort()).toEqual(["deploy"]);
  });

  it.each([
    ["a path climbing out", [{ name: "../evil.yaml", content: "x" }], /leaves the extraction directory/],
    ["an absolute path", [{ name: "/tmp/evil.yaml", content: "x" }], /leaves the extraction directory/],
    ["too many bytes", [{ name: "big", content: "x".repeat(2048) }], /exceeds 1024 bytes/],
    [
      "too many entries",
      Array.from({ length: 11 }, (_, i) => ({ name: `f${i}`, content: "x" })),
      /more than 10 entries/,
    ],
  ] as const)("Given %s / should refuse the layer", async (_, entries, message) => {
    await expect(extract(await tarGz([...entries]))).rejects.toThrow(message);
    await expect(readFile(join(dir, "evil.yaml"))).rejects.toThrow();
  });

  it("Given bytes that are not gzip / should refuse them as not a tarball", async () => {
    await expect(extract(Buffer.from("plain text"))).rejects.toMatchObject({
      reason: "OCIArtifactLayerOperationFailed",
      message: "failed to extract layer: not a gzip-compressed tarball",
    });
  });
});

describe("selectLayer", () => {
  const layers = [
    { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: "sha256:1", size: 1 },
    { mediaType: "application/vnd.cncf.flux.content.v1.tar+gzip", digest: "sha256:2", size: 1 },
  ];
  it("should take the first layer, or the first of the selected media type", () => {
    expect(selectLayer(layers, undefined, "d").digest).toBe("sha256:1");
    expect(selectLayer(layers, "application/vnd.cncf.flux.content.v1.tar+gzip", "d").digest).toBe("sha256:2");
    expect(() => selectLayer(layers, "text/plain", "d")).toThrow(
      "failed to find layer with media type 'text/plain' in artifact d",
    );
  });
});
