import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReconcileError } from "@capstan/runtime";
import { create } from "tar";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ArtifactFetcher } from "./fetcher.js";

let work: string;
let server: Server;
let base: string;
const routes = new Map<string, (attempt: number) => { status: number; body?: Buffer }>();
const attempts = new Map<string, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? "/";
    const n = (attempts.get(path) ?? 0) + 1;
    attempts.set(path, n);
    const route = routes.get(path);
    const reply = route ? route(n) : { status: 404 };
    res.writeHead(reply.status);
    res.end(reply.body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), "fetch-test-"));
  routes.clear();
  attempts.clear();
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function tarball(files: Record<string, string>, extra?: (dir: string) => Promise<void>): Promise<Buffer> {
  const src = await mkdtemp(join(work, "src-"));
  for (const [p, text] of Object.entries(files)) {
    await mkdir(join(src, p, ".."), { recursive: true });
    await writeFile(join(src, p), text);
  }
  await extra?.(src);
  const out = join(work, `${Math.random()}.tar.gz`);
  await create({ gzip: true, file: out, cwd: src, portable: true }, ["."]);
  return readFile(out);
}

const sha256 = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const fetcher = (extra: Partial<ConstructorParameters<typeof ArtifactFetcher>[0]> = {}) =>
  new ArtifactFetcher({ cacheDir: join(work, "cache"), retries: 3, minBackoffMs: 10, maxBackoffMs: 20, ...extra });

describe("ArtifactFetcher", () => {
  it("Given an artifact, should download, verify, extract and then serve it from the cache", async () => {
    const body = await tarball({ "apps/cm.yaml": "kind: ConfigMap\n" });
    routes.set("/a.tar.gz", () => ({ status: 200, body }));
    const f = fetcher();
    const dir = await f.fetch({ url: `${base}/a.tar.gz`, digest: sha256(body) });
    expect(await readFile(join(dir, "apps/cm.yaml"), "utf8")).toBe("kind: ConfigMap\n");
    expect(await f.fetch({ url: `${base}/a.tar.gz`, digest: sha256(body) })).toBe(dir);
    expect(attempts.get("/a.tar.gz")).toBe(1);
  });

  it("Given transient server errors, should retry with backoff until it succeeds", async () => {
    const body = await tarball({ "x.yaml": "a: 1\n" });
    routes.set("/flaky", (n) => (n < 3 ? { status: 503 } : { status: 200, body }));
    const dir = await fetcher().fetch({ url: `${base}/flaky`, digest: sha256(body) });
    expect(attempts.get("/flaky")).toBe(3);
    expect((await stat(join(dir, "x.yaml"))).isFile()).toBe(true);
  });

  it("Given a digest mismatch, should fail with ArtifactFailed without retrying or caching", async () => {
    const body = await tarball({ "x.yaml": "a: 1\n" });
    routes.set("/bad?token=secret", () => ({ status: 200, body }));
    const digest = `sha256:${"0".repeat(64)}`;
    const err = await fetcher()
      .fetch({ url: `${base}/bad?token=secret`, digest })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: "ArtifactFailed" });
    expect(err).toBeInstanceOf(ReconcileError);
    expect((err as Error).message).toMatch(/computed digest sha256:[0-9a-f]{64} doesn't match/);
    expect(attempts.get("/bad?token=secret")).toBe(1);
    await expect(stat(join(work, "cache", `sha256-${"0".repeat(64)}`))).rejects.toThrow();
  });

  it("Given a permanent 403, should fail without retrying and without leaking the query string", async () => {
    routes.set("/denied?token=hunter2", () => ({ status: 403 }));
    const err = await fetcher()
      .fetch({ url: `${base}/denied?token=hunter2`, digest: `sha256:${"a".repeat(64)}` })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: "ArtifactFailed" });
    expect(err).toBeInstanceOf(ReconcileError);
    expect((err as Error).message).toContain("HTTP 403");
    expect((err as Error).message).not.toContain("hunter2");
    expect(attempts.get("/denied?token=hunter2")).toBe(1);
  });

  it("Given a download larger than the cap, should refuse it", async () => {
    const body = await tarball({ "big.yaml": randomBytes(100_000).toString("hex") });
    routes.set("/big", () => ({ status: 200, body }));
    await expect(
      fetcher({ maxDownloadBytes: 1000 }).fetch({ url: `${base}/big`, digest: sha256(body) }),
    ).rejects.toThrowError(/download exceeds the cap of 1000 bytes; raise it with --artifact-max-size/);
  });

  it("Given content beyond the extraction cap, should refuse it", async () => {
    const body = await tarball({ "big.yaml": "x".repeat(200_000) });
    routes.set("/bomb", () => ({ status: 200, body }));
    await expect(
      fetcher({ extractLimits: { maxBytes: 10_000, maxEntries: 100, maxFileBytes: 1_000_000 } }).fetch({
        url: `${base}/bomb`,
        digest: sha256(body),
      }),
    ).rejects.toThrowError(/exceeds the cap of 10000 bytes; raise it with --artifact-max-extracted-size/);
  });

  it("Given a symlink escaping the archive, should refuse the artifact", async () => {
    const body = await tarball({ "ok.yaml": "a: 1\n" }, (dir) =>
      symlink("../../../etc/passwd", join(dir, "evil.yaml")),
    );
    routes.set("/evil", () => ({ status: 200, body }));
    await expect(fetcher().fetch({ url: `${base}/evil`, digest: sha256(body) })).rejects.toThrowError(
      /symlink 'evil\.yaml' points outside/,
    );
  });

  it("Given an artifact refused for its content, should refuse its digest again without downloading it", async () => {
    const body = await tarball({ "ok.yaml": "a: 1\n" }, (dir) => symlink("/etc/passwd", join(dir, "evil.yaml")));
    routes.set("/refused", () => ({ status: 200, body }));
    const f = fetcher();
    const first = await f.fetch({ url: `${base}/refused`, digest: sha256(body) }).catch((e: unknown) => e);
    const second = await f.fetch({ url: `${base}/refused`, digest: sha256(body) }).catch((e: unknown) => e);
    expect((first as Error).message).toMatch(/symlink 'evil\.yaml' points outside the archive root \(absolute\)/);
    expect(second).toMatchObject({ reason: "ArtifactFailed" });
    expect(second).toBeInstanceOf(ReconcileError);
    expect((second as Error).message).toBe((first as Error).message);
    expect(attempts.get("/refused")).toBe(1);
  });

  it("Given a server declaring a body larger than the cap, should refuse it before reading it", async () => {
    routes.set("/declared", () => ({ status: 200, body: Buffer.alloc(5000) }));
    await expect(
      fetcher({ maxDownloadBytes: 1000 }).fetch({ url: `${base}/declared`, digest: `sha256:${"b".repeat(64)}` }),
    ).rejects.toThrowError(/artifact download exceeds the cap of 1000 bytes; raise it with --artifact-max-size/);
    expect(attempts.get("/declared")).toBe(1);
  });

  it("Given a symlink inside the archive, should keep it", async () => {
    const body = await tarball({ "a/real.yaml": "a: 1\n" }, (dir) => symlink("real.yaml", join(dir, "a", "link.yaml")));
    routes.set("/link", () => ({ status: 200, body }));
    const dir = await fetcher().fetch({ url: `${base}/link`, digest: sha256(body) });
    expect(await readFile(join(dir, "a/link.yaml"), "utf8")).toBe("a: 1\n");
  });

  it("Given no digest, should refuse the artifact", async () => {
    await expect(fetcher().fetch({ url: `${base}/x` })).rejects.toMatchObject({ reason: "ArtifactFailed" });
  });

  it("Given concurrent fetches of one digest, should download once", async () => {
    const body = await tarball({ "x.yaml": "a: 1\n" });
    routes.set("/once", () => ({ status: 200, body }));
    const f = fetcher();
    const [a, b] = await Promise.all([
      f.fetch({ url: `${base}/once`, digest: sha256(body) }),
      f.fetch({ url: `${base}/once`, digest: sha256(body) }),
    ]);
    expect(a).toBe(b);
    expect(attempts.get("/once")).toBe(1);
  });
});
