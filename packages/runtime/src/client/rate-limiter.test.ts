import { describe, expect, it } from "vitest";
import { TokenBucket } from "./rate-limiter.js";

function clock(start = 0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("TokenBucket", () => {
  it("Given a full bucket, should let `burst` requests through at once and make the next one wait 1/qps", () => {
    const c = clock();
    const bucket = new TokenBucket({ qps: 10, burst: 3, now: c.now });
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0]);
    expect(bucket.reserve()).toBe(100);
  });

  it("Given callers queued on an empty bucket, should serve them in order, each 1/qps after the previous", () => {
    const c = clock();
    const bucket = new TokenBucket({ qps: 50, burst: 1, now: c.now });
    expect(bucket.reserve()).toBe(0);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([20, 40, 60]);
  });

  it("Given time passes, should refill at qps but never beyond burst", () => {
    const c = clock();
    const bucket = new TokenBucket({ qps: 1, burst: 2, now: c.now });
    bucket.reserve();
    bucket.reserve();
    c.advance(10_000);
    expect([bucket.reserve(), bucket.reserve()]).toEqual([0, 0]);
    expect(bucket.reserve()).toBe(1000);
  });

  it("Given qps 0, should never make a caller wait", () => {
    const bucket = new TokenBucket({ qps: 0, burst: 1 });
    for (let i = 0; i < 1000; i++) expect(bucket.reserve()).toBe(0);
  });

  it("Given tryTake on an empty bucket, should refuse without going into debt", () => {
    const c = clock();
    const bucket = new TokenBucket({ qps: 1, burst: 2, now: c.now });
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, false]);
    c.advance(999);
    expect(bucket.tryTake()).toBe(false);
    c.advance(1);
    expect(bucket.tryTake()).toBe(true);
  });
});

describe("TokenBucket.disable", () => {
  it("Given callers waiting on an empty bucket, should release them at once and never make a caller wait again", async () => {
    const bucket = new TokenBucket({ qps: 0.001, burst: 1 });
    await bucket.take();
    // Each of these would wait ~1000 s for its token.
    const waiting = Promise.all([bucket.take(), bucket.take(), bucket.take()]);
    expect(bucket.throttledCount).toBe(3);
    bucket.disable();
    await waiting;
    expect(bucket.enabled).toBe(false);
    for (let i = 0; i < 100; i++) expect(bucket.reserve()).toBe(0);
    await bucket.take();
    expect(bucket.throttledCount).toBe(3);
  });
});
