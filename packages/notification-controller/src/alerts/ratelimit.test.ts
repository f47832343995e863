import { describe, expect, it } from "vitest";
import { EventRateLimiter } from "./ratelimit.js";

describe("rate limit", () => {
  it("Given the same key twice within the window / should allow only the first, then again after the window", () => {
    let t = 0;
    const limiter = new EventRateLimiter(5 * 60_000, () => t);
    expect(limiter.allow("k")).toBe(true);
    t = 60_000;
    expect(limiter.allow("k")).toBe(false);
    expect(limiter.allow("other")).toBe(true);
    t = 5 * 60_000;
    expect(limiter.allow("k")).toBe(true);
  });

  it("Given a zero interval / should allow everything", () => {
    const limiter = new EventRateLimiter(0);
    expect(limiter.allow("k") && limiter.allow("k")).toBe(true);
  });
});
