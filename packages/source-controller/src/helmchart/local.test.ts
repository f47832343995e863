import { describe, expect, it } from "vitest";
import { summary } from "./build.js";
import { shortCommit, sourcePath } from "./local.js";

describe("local chart paths and versions", () => {
  it.each([
    ["./charts/app", "charts/app"],
    ["charts/app/", "charts/app"],
    ["/charts/app", "charts/app"],
    [".", ""],
    ["charts/../charts/app", "charts/app"],
    ["../app", undefined],
    ["charts/../../app", undefined],
  ])("Given the path %s / should resolve inside the source to %s", (path, want) => {
    expect(sourcePath(path)).toBe(want);
  });

  it("Given a Git revision / should take the first 12 hex digits of the commit", () => {
    expect(shortCommit("main@sha1:0123456789abcdef0123456789abcdef01234567")).toBe("0123456789ab");
    expect(shortCommit("sha1:0123456789abcdef0123456789abcdef01234567")).toBe("0123456789ab");
  });

  it("Given builds / should summarize them as Flux's Build.Summary does", () => {
    const b = { name: "app", version: "1.0.0", packaged: false, valuesFiles: [], resolvedDependencies: 0 };
    expect(summary(b)).toBe("pulled 'app' chart with version '1.0.0'");
    expect(summary({ ...b, packaged: true, valuesFiles: ["a.yaml", "b.yaml"] })).toBe(
      "packaged 'app' chart with version '1.0.0' and merged values files [a.yaml b.yaml]",
    );
  });
});
