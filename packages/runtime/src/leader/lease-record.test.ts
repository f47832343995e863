import { describe, expect, it } from "vitest";
import { acquiredSpec, formatMicroTime, heldByOther, recordFingerprint } from "./lease-record.js";

describe("lease record", () => {
  it("Given a date, should format it as a MicroTime with six fractional digits", () => {
    expect(formatMicroTime(new Date("2026-01-02T03:04:05.678Z"))).toBe("2026-01-02T03:04:05.678000Z");
  });

  it("Given a lease held by another identity, taking it should count a transition and reset acquireTime", () => {
    const now = new Date("2026-01-01T00:00:10Z");
    const spec = acquiredSpec(
      { holderIdentity: "a", acquireTime: "2026-01-01T00:00:00.000000Z", leaseTransitions: 3 },
      "b",
      35,
      now,
    );
    expect(spec).toEqual({
      holderIdentity: "b",
      leaseDurationSeconds: 35,
      acquireTime: "2026-01-01T00:00:10.000000Z",
      renewTime: "2026-01-01T00:00:10.000000Z",
      leaseTransitions: 4,
    });
  });

  it("Given a renewal by the holder, should keep acquireTime and the transition count", () => {
    const spec = acquiredSpec(
      { holderIdentity: "a", acquireTime: "2026-01-01T00:00:00.000000Z", leaseTransitions: 3 },
      "a",
      35,
      new Date("2026-01-01T00:00:10Z"),
    );
    expect(spec.acquireTime).toBe("2026-01-01T00:00:00.000000Z");
    expect(spec.leaseTransitions).toBe(3);
  });

  it("Given a released lease (no holder), taking it should not count as a transition from someone", () => {
    expect(acquiredSpec({ holderIdentity: null, leaseTransitions: 2 }, "a", 35, new Date()).leaseTransitions).toBe(2);
  });

  it.each([
    [
      "another holder, seen changing 10s ago, 35s lease",
      { holderIdentity: "x", leaseDurationSeconds: 35 },
      10_000,
      true,
    ],
    ["another holder, unchanged for 36s, 35s lease", { holderIdentity: "x", leaseDurationSeconds: 35 }, 36_000, false],
    ["ourselves", { holderIdentity: "me", leaseDurationSeconds: 35 }, 0, false],
    ["nobody (released)", { holderIdentity: null, leaseDurationSeconds: 1 }, 0, false],
  ])("Given %s, heldByOther should be %s", (_what, spec, agoMs, expected) => {
    expect(heldByOther(spec, "me", 100_000 - agoMs, 100_000)).toBe(expected);
  });

  it("Given a renewTime change, should change the fingerprint", () => {
    expect(recordFingerprint({ holderIdentity: "a", renewTime: "1" })).not.toBe(
      recordFingerprint({ holderIdentity: "a", renewTime: "2" }),
    );
  });
});
