import { describe, expect, it } from "vitest";
import { GitError } from "../errors.js";
import { checkoutStrategy, parseLsRemote, parseTagVersion, selectSemverTag, toNodeRange } from "./reference.js";

describe("checkoutStrategy", () => {
  it.each([
    [undefined, { kind: "branch", branch: "master" }],
    [{}, { kind: "branch", branch: "master" }],
    [{ branch: "main" }, { kind: "branch", branch: "main" }],
    [
      { branch: "main", tag: "v1" },
      { kind: "tag", tag: "v1" },
    ],
    [
      { tag: "v1", semver: "^1" },
      { kind: "semver", range: "^1" },
    ],
    [
      { semver: "^1", name: "refs/pull/1/head" },
      { kind: "name", name: "refs/pull/1/head" },
    ],
    [
      { name: "refs/pull/1/head", commit: "abc1" },
      { kind: "commit", commit: "abc1" },
    ],
    [
      { branch: "main", commit: "abc1" },
      { kind: "commit", commit: "abc1", branch: "main" },
    ],
  ])("Given ref %j / should follow Flux's precedence: %j", (ref, expected) => {
    expect(checkoutStrategy(ref)).toEqual(expected);
  });
});

describe("parseLsRemote", () => {
  it("Given annotated and lightweight tags / should peel annotated ones to their commit", () => {
    const out = [
      "c1\tHEAD",
      "c1\trefs/heads/main",
      "t1\trefs/tags/v1",
      "c2\trefs/tags/v1^{}",
      "c3\trefs/tags/light",
    ].join("\n");
    const refs = parseLsRemote(out);
    expect(refs.get("refs/tags/v1")).toEqual({ name: "refs/tags/v1", hash: "t1", peeled: "c2" });
    expect(refs.get("refs/tags/light")).toEqual({ name: "refs/tags/light", hash: "c3" });
    expect(refs.get("refs/heads/main")?.hash).toBe("c1");
  });
});

describe("selectSemverTag", () => {
  const tags = ["v1.0.0", "v1.2.0", "1.3.0-rc.1", "v2.0.0", "latest", "v1.10.1", "0.9"];

  it.each([
    ["^1.0.0", "v1.10.1"],
    [">=1.0.0 <2.0.0", "v1.10.1"],
    [">= 1.0.0, < 1.5.0", "v1.2.0"],
    ["*", "v2.0.0"],
    ["~0.9", "0.9"],
    [">=1.3.0-rc.0 <1.4.0", "1.3.0-rc.1"],
  ])("Given range %s / should pick %s", (range, expected) => {
    expect(selectSemverTag(range, tags)).toBe(expected);
  });

  it("Given no tag in range / should return undefined", () => {
    expect(selectSemverTag(">=3.0.0", tags)).toBeUndefined();
  });

  it("Given an invalid range / should throw a stalling GitError", () => {
    expect(() => selectSemverTag("not a range!!", tags)).toThrow(GitError);
  });

  it("Given versions equal but for build metadata / should pick deterministically", () => {
    expect(selectSemverTag("1.0.0", ["1.0.0+b", "1.0.0+a"])).toBe("1.0.0+b");
  });

  it("Given Masterminds comma syntax / should translate to node-semver", () => {
    expect(toNodeRange(">=1.0, <2.0 || 3.x")).toBe(">=1.0 <2.0 || 3.x");
    expect(parseTagVersion("v1")?.version).toBe("1.0.0");
    expect(parseTagVersion("release-1")).toBeUndefined();
  });
});
