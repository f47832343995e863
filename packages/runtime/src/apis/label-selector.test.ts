import { describe, expect, it } from "vitest";
import { matchesLabelSelector, maxLabelSelectorLength, parseLabelSelector } from "./label-selector.js";

const labels = { tier: "web", env: "prod", "app.kubernetes.io/name": "podinfo" };

describe("Given a Kubernetes label selector", () => {
  it.each([
    ["tier=web", true],
    ["tier==web", true],
    ["tier!=web", false],
    ["tier in (web,api)", true],
    ["tier in (api)", false],
    ["env notin (prod)", false],
    ["env notin (dev, test)", true],
    ["app.kubernetes.io/name", true],
    ["!app.kubernetes.io/name", false],
    ["!missing", true],
    ["missing", false],
    ["tier=web,env in (prod),!missing", true],
    ["tier=web,env=dev", false],
    ["", true],
  ])("should match %j: %s", (selector, want) => {
    expect(matchesLabelSelector(parseLabelSelector(selector), labels)).toBe(want);
  });

  it.each([["a in (b"], ["a b c"], ["=x"], ["a=(b)"]])("should refuse malformed %j", (selector) => {
    expect(() => parseLabelSelector(selector)).toThrow(/invalid selector requirement/);
  });

  it("should refuse a selector longer than the cap before reading it", () => {
    const long = `a in (${"x,".repeat(maxLabelSelectorLength)}y)`;
    expect(() => parseLabelSelector(long)).toThrow(`selector longer than ${maxLabelSelectorLength} characters`);
    expect(() => parseLabelSelector("a=b".padEnd(maxLabelSelectorLength, " "))).not.toThrow();
  });
});
