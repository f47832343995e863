import { describe, expect, it } from "vitest";
import { formatRevision, parseRevision, shortMessage, shortRef } from "./revision.js";

const sha = "a".repeat(40);

describe("formatRevision", () => {
  it.each([
    ["refs/heads/main", `main@sha1:${sha}`],
    ["refs/heads/feature/x", `feature/x@sha1:${sha}`],
    ["refs/tags/v1.2.3", `v1.2.3@sha1:${sha}`],
    ["refs/pull/1/head", `refs/pull/1/head@sha1:${sha}`],
    ["", `sha1:${sha}`],
  ])("Given reference %j / should format Flux's revision %s", (ref, expected) => {
    expect(formatRevision(ref, sha)).toBe(expected);
  });

  it("Given a SHA-256 object name / should use the sha256 algorithm", () => {
    expect(formatRevision("refs/heads/main", "b".repeat(64))).toBe(`main@sha256:${"b".repeat(64)}`);
  });
});

describe("parseRevision", () => {
  it("Given a revision it formatted / should parse it back", () => {
    expect(parseRevision(`refs/pull/1/head@sha1:${sha}`)).toEqual({
      ref: "refs/pull/1/head",
      algorithm: "sha1",
      hash: sha,
    });
    expect(parseRevision(`sha1:${sha}`)).toEqual({ ref: "", algorithm: "sha1", hash: sha });
  });

  it("Given the legacy '<branch>/<hash>' form / should parse it", () => {
    expect(parseRevision(`main/${sha}`)).toEqual({ ref: "main", algorithm: "sha1", hash: sha });
  });

  it("Given garbage / should return undefined", () => {
    expect(parseRevision("main@sha1:xyz")).toBeUndefined();
  });

  it("Given a tag ref / should shorten it", () => {
    expect(shortRef("refs/tags/v1")).toBe("v1");
  });
});

describe("shortMessage", () => {
  it.each([
    ["Given a one-line message / should keep it", "fix: typo", "fix: typo"],
    ["Given a body / should keep only the first line", "feat: x\n\nlong body\n", "feat: x"],
    ["Given exactly 50 characters / should keep them all", "a".repeat(50), "a".repeat(50)],
    ["Given 51 characters / should cut to 50 and add an ellipsis", "b".repeat(51), `${"b".repeat(50)}...`],
    ["Given multi-byte characters / should count characters, not bytes", "é".repeat(51), `${"é".repeat(50)}...`],
  ])("%s", (_name, input, expected) => {
    expect(shortMessage(input)).toBe(expected);
  });
});
