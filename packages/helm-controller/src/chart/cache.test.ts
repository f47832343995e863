import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChartCache } from "./cache.js";
import { type ChartArtifact, ChartFetchError } from "./fetch.js";

const artifactOf = (bytes: Buffer, url = "http://source/chart.tgz"): ChartArtifact => ({
  url,
  revision: "1.0.0",
  digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`,
});
const options = { maxBytes: 1024 * 1024, timeoutMs: 1000 };

describe("ChartCache", () => {
  let root: string;
  let downloads: string[];
  let served: Map<string, Buffer>;
  const download = async (a: ChartArtifact) => {
    downloads.push(a.url);
    await new Promise((r) => setTimeout(r, 5));
    const bytes = served.get(a.url);
    if (!bytes) throw new ChartFetchError(`failed to download chart from ${a.url}: HTTP 404`);
    return bytes;
  };
  const cacheOf = (maxBytes = 1024 * 1024) => new ChartCache({ dir: join(root, "cache"), maxBytes, download });

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "chart-cache-"));
    downloads = [];
    served = new Map();
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("given concurrent actions of one chart digest, should download it once and give each pass the verified bytes", async () => {
    const bytes = Buffer.from("chart-a");
    served.set("http://source/chart.tgz", bytes);
    const cache = cacheOf();
    const dests = [0, 1, 2, 3].map((i) => join(root, `pass${i}.tgz`));
    const got = await Promise.all(dests.map((d) => cache.fetchTo(artifactOf(bytes), d, options)));
    expect(downloads).toHaveLength(1);
    expect(got.sort()).toEqual(["cache", "cache", "cache", "download"]);
    for (const d of dests) expect(await readFile(d)).toEqual(bytes);
    expect(await cache.fetchTo(artifactOf(bytes), join(root, "later.tgz"), options)).toBe("cache");
    expect(downloads).toHaveLength(1);
    expect(await readFile(join(root, "later.tgz"))).toEqual(bytes);
  });

  it("given a kept file altered on disk, should drop it and download again rather than hand it to helm", async () => {
    const bytes = Buffer.from("chart-b");
    served.set("http://source/chart.tgz", bytes);
    const cache = cacheOf();
    await cache.fetchTo(artifactOf(bytes), join(root, "one.tgz"), options);
    const [kept] = (await readdir(join(root, "cache"))).filter((f) => f.endsWith(".tgz"));
    await writeFile(join(root, "cache", kept as string), "tampered");
    // The pass's own link shares the inode: it was altered too, which is why the check reads what helm will read.
    expect(await cache.fetchTo(artifactOf(bytes), join(root, "two.tgz"), options)).toBe("download");
    expect(downloads).toHaveLength(2);
    expect(await readFile(join(root, "two.tgz"))).toEqual(bytes);
  });

  it("given more charts than its size allows, should keep the most recently used within the bound", async () => {
    const charts = ["a", "b", "c"].map((c) => Buffer.from(c.repeat(400)));
    for (const [i, b] of charts.entries()) served.set(`http://source/${i}.tgz`, b);
    const cache = cacheOf(1000);
    const fetch = (i: number, name: string) =>
      cache.fetchTo(artifactOf(charts[i] as Buffer, `http://source/${i}.tgz`), join(root, name), options);
    await fetch(0, "a1");
    await fetch(1, "b1");
    expect(await fetch(0, "a2")).toBe("cache");
    await fetch(2, "c1"); // 1200 bytes: b, least recently used, goes
    expect(cache.stats).toEqual({ entries: 2, bytes: 800 });
    expect(await fetch(0, "a3")).toBe("cache");
    expect(await fetch(1, "b2")).toBe("download");
    expect((await readdir(join(root, "cache"))).filter((f) => f.endsWith(".tgz"))).toHaveLength(2);
  });

  it("given a chart larger than the cache, should still give the pass its bytes without keeping them", async () => {
    const bytes = Buffer.from("x".repeat(2000));
    served.set("http://source/chart.tgz", bytes);
    const cache = cacheOf(1000);
    expect(await cache.fetchTo(artifactOf(bytes), join(root, "big.tgz"), options)).toBe("download");
    expect(await readFile(join(root, "big.tgz"))).toEqual(bytes);
    expect(cache.stats.entries).toBe(0);
  });

  it("given a failed download or a digest it does not support, should keep nothing and say why", async () => {
    const cache = cacheOf();
    const missing = artifactOf(Buffer.from("nowhere"), "http://source/missing.tgz");
    await expect(cache.fetchTo(missing, join(root, "m.tgz"), options)).rejects.toThrow(/HTTP 404/);
    await expect(cache.fetchTo(missing, join(root, "m.tgz"), options)).rejects.toThrow(/HTTP 404/);
    expect(downloads).toHaveLength(2);
    const odd = { ...missing, digest: "md5:../../etc/passwd" };
    await expect(cache.fetchTo(odd, join(root, "o.tgz"), options)).rejects.toThrow(ChartFetchError);
    expect(downloads).toHaveLength(2);
    expect(cache.stats.entries).toBe(0);
  });
});
