// Decompression bombs served over HTTP, fetched with the default caps: the fetch fails with an error naming the cap
// and its flag, the process's memory stays bounded, and the event loop keeps serving a health endpoint throughout.
// Alone in its file, so that the process's RSS is this test's.

import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReconcileError } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArtifactFetcher } from "./fetcher.js";
import { gzipSegments, headerBlock } from "./testing/tar.js";

let work: string;
let server: Server;
let base: string;
const bodies = new Map<string, Buffer>();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "bombs-test-"));
  server = createServer((req, res) => {
    if (req.url === "/healthz") return res.end("ok");
    const body = bodies.get(req.url ?? "");
    res.writeHead(body ? 200 : 404);
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(work, { recursive: true, force: true });
});

const MiB = 1024 * 1024;
const sha256 = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** Fetches while sampling RSS and asking /healthz over and over; returns the error, peak RSS growth, answers. */
async function underAttack(path: string) {
  const body = bodies.get(path) as Buffer;
  const fetcher = new ArtifactFetcher({ cacheDir: join(work, "cache"), retries: 0 });
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  let done = false;
  let answers = 0;
  const prober = (async () => {
    while (!done) {
      if ((await (await fetch(`${base}/healthz`)).text()) === "ok" && !done) answers++;
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const error = await fetcher.fetch({ url: `${base}${path}`, digest: sha256(body) }).then(
    () => undefined,
    (e: unknown) => e,
  );
  done = true;
  await prober;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { error, growthMiB: (peak - baseline) / MiB, answers };
}

describe("ArtifactFetcher under decompression bombs (default caps)", () => {
  it("Given a ~1 MB gzip of a tarball holding 1.2 GiB of zeros, should refuse it at the content cap with memory bounded and /healthz answering", async () => {
    // 40 files of 30 MiB: each under the per-file cap, together far over the content cap.
    const segments = Array.from({ length: 40 }, (_, i) => [
      headerBlock({ path: `z${i}.yaml`, size: 30 * MiB }),
      30 * MiB,
    ]);
    const bomb = await gzipSegments([...segments.flat(), 1024]);
    expect(bomb.length).toBeLessThan(2 * MiB);
    bodies.set("/zeros.tar.gz", bomb);
    const { error, growthMiB, answers } = await underAttack("/zeros.tar.gz");
    expect(error).toMatchObject({ reason: "ArtifactFailed" });
    expect(error).toBeInstanceOf(ReconcileError);
    expect((error as Error).message).toMatch(
      /content exceeds the cap of 256 MiB \(268435456 bytes\); raise it with --artifact-max-extracted-size/,
    );
    // The old extraction inflated synchronously: /healthz went silent and RSS passed 1.3 GiB.
    expect(growthMiB).toBeLessThan(256);
    expect(answers).toBeGreaterThanOrEqual(5);
  }, 180_000);

  it("Given a 2 GiB file declared in a tiny tarball, should refuse it at its header with memory bounded", async () => {
    const bomb = await gzipSegments([headerBlock({ path: "big.yaml", size: 2 * 1024 * MiB }), 64 * MiB]);
    bodies.set("/declared.tar.gz", bomb);
    const { error, growthMiB } = await underAttack("/declared.tar.gz");
    expect((error as Error).message).toMatch(/file 'big\.yaml' is 2147483648 bytes, .*--artifact-max-file-size/);
    expect(growthMiB).toBeLessThan(256);
  }, 180_000);
});
