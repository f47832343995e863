import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { GitAuth } from "./auth.js";
import { GitCache } from "./cache.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function newCache(options: { maxRepos?: number; maxFetches?: number } = {}) {
  const parent = await mkdtemp(join(tmpdir(), "capstan-cache-test-"));
  dirs.push(parent);
  return new GitCache({ parent, ...options });
}

describe("GitCache", () => {
  it.each<[string, GitAuth, GitAuth]>([
    [
      "another password",
      { transport: "https", username: "u", password: "a" },
      { transport: "https", username: "u", password: "b" },
    ],
    ["no credentials", { transport: "https", username: "u", password: "a" }, { transport: "https" }],
    ["another token", { transport: "https", bearerToken: "x" }, { transport: "https", bearerToken: "y" }],
    [
      "another SSH key",
      { transport: "ssh", user: "git", identity: Buffer.from("k1") },
      { transport: "ssh", user: "git", identity: Buffer.from("k2") },
    ],
  ])("Given the same URL with %s / should never share a repository", async (_what, a, b) => {
    const cache = await newCache();
    expect(cache.keyOf("https://h/r.git", a)).not.toBe(cache.keyOf("https://h/r.git", b));
  });

  it("Given equal credentials built twice / should give one key, and no secret in it", async () => {
    const cache = await newCache();
    const a = cache.keyOf("https://h/r.git", { transport: "https", username: "u", password: "secret-pw" });
    const b = cache.keyOf("https://h/r.git", { password: "secret-pw", username: "u", transport: "https" });
    expect(a).toBe(b);
    expect(a).not.toContain("secret");
    expect(cache.keyOf("https://h/other.git", { transport: "https" })).not.toBe(
      cache.keyOf("https://h/r.git", { transport: "https" }),
    );
  });

  it("Given concurrent callers of one key / shared() should run the work once, and again once it settled", async () => {
    const cache = await newCache();
    let runs = 0;
    const work = () => new Promise<number>((r) => setTimeout(() => r(++runs), 10));
    const results = await Promise.all([cache.shared("k", work), cache.shared("k", work), cache.shared("k", work)]);
    expect(results).toEqual([1, 1, 1]);
    expect(await cache.shared("k", work)).toBe(2);
  });

  it("Given a finished listing / listing() should reuse it only for callers asked for before it started", async () => {
    const cache = await newCache();
    let runs = 0;
    const work = async () => ++runs;
    const askedBefore = performance.now();
    expect(await cache.listing("k", askedBefore, work)).toBe(1);
    // Asked for before the listing began: what it saw is as fresh as a new one.
    expect(await cache.listing("k", askedBefore, work)).toBe(1);
    // Asked for after it began (a webhook after a push): lists again.
    expect(await cache.listing("k", performance.now() + 1, work)).toBe(2);
    // No request time: only a running listing is shared, a finished one never.
    expect(await cache.listing("k", undefined, work)).toBe(3);
    expect(await cache.listing("other", askedBefore, work)).toBe(4);
  });

  it("Given a failed listing / listing() should not keep it", async () => {
    const cache = await newCache();
    const askedBefore = performance.now();
    await expect(cache.listing("k", askedBefore, () => Promise.reject(new Error("down")))).rejects.toThrow("down");
    expect(await cache.listing("k", askedBefore, async () => "up")).toBe("up");
  });

  it("Given concurrent first users / should initialise one repository, and drop a broken one", async () => {
    const cache = await newCache();
    let inits = 0;
    const init = async () => {
      inits++;
    };
    const [a, b] = await Promise.all([cache.acquire("k", init), cache.acquire("k", init)]);
    expect(inits).toBe(1);
    expect(a).toBe(b);
    cache.release("k", a);
    cache.release("k", b, true);
    const c = await cache.acquire("k", init);
    expect(c).not.toBe(a);
    expect(inits).toBe(2);
    cache.release("k", c);
  });

  it("Given more repositories than maxRepos / should evict the least recently used idle one", async () => {
    const cache = await newCache({ maxRepos: 1 });
    const { mkdir } = await import("node:fs/promises");
    const init = (dir: string) => mkdir(dir).then(() => undefined);
    const first = await cache.acquire("a", init);
    cache.release("a", first);
    const second = await cache.acquire("b", init);
    cache.release("b", second);
    await new Promise((r) => setTimeout(r, 50));
    await expect(stat(first.dir)).rejects.toThrow();
    expect((await stat(second.dir)).isDirectory()).toBe(true);
    expect((await stat(join(second.dir, ".."))).mode & 0o777).toBe(0o700);
    await cache.dispose();
    await expect(stat(second.dir)).rejects.toThrow();
  });
});
