import { describe, expect, it } from "vitest";
import { CacheJanitor } from "./janitor.js";

function fakeFetcher() {
  const calls: string[][] = [];
  let release: () => void = () => undefined;
  let block = false;
  return {
    calls,
    hold() {
      block = true;
    },
    release: () => release(),
    fetcher: {
      evictExcept(keep: Iterable<string>) {
        calls.push([...keep].sort());
        if (!block) return Promise.resolve();
        return new Promise<void>((r) => {
          release = r;
        });
      },
    },
  };
}

describe("CacheJanitor", () => {
  it("Given digests referenced and in use, should keep both", async () => {
    const f = fakeFetcher();
    const j = new CacheJanitor({ fetcher: f.fetcher, referenced: () => ["sha256:a"] });
    await j.using("sha256:b", () => j.collect());
    expect(f.calls).toEqual([["sha256:a", "sha256:b"]]);
    await j.collect();
    expect(f.calls[1]).toEqual(["sha256:a"]);
  });

  it("Given a collection in progress, should hold a new reconcile back until it ends", async () => {
    const f = fakeFetcher();
    f.hold();
    const j = new CacheJanitor({ fetcher: f.fetcher, referenced: () => [] });
    const collecting = j.collect();
    const order: string[] = [];
    const using = j.using("sha256:new", async () => {
      order.push("build");
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual([]);
    order.push("collected");
    f.release();
    await collecting;
    await using;
    expect(order).toEqual(["collected", "build"]);
  });

  it("Given referenced() throws, should report it and not collect", async () => {
    const f = fakeFetcher();
    const errors: unknown[] = [];
    const j = new CacheJanitor({
      fetcher: f.fetcher,
      referenced: () => {
        throw new Error("cache not ready");
      },
      onError: (e) => errors.push(e),
    });
    await j.collect();
    expect(f.calls).toEqual([]);
    expect(errors).toHaveLength(1);
    await j.using("sha256:x", async () => undefined);
  });
});
