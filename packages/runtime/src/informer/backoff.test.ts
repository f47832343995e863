import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff.js";

describe("Backoff", () => {
  it("Given repeated failures, should double from the initial delay up to the cap", () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 800, 1000, 1000]);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it("Given jitter, should lengthen each delay by at most the jitter fraction", () => {
    const b = new Backoff({ initialMs: 1000, jitter: 0.5, random: () => 0.999 });
    const d = b.next();
    expect(d).toBeGreaterThan(1000);
    expect(d).toBeLessThanOrEqual(1500);
  });
});
