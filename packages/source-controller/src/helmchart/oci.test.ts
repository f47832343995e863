import { describe, expect, it } from "vitest";
import { selectOciVersion, tagOf } from "./oci.js";

describe("selectOciVersion", () => {
  const tags = ["latest", "v2.0.0", "1.0.0", "1.2.0", "1.10.0", "2.0.0-rc.1", "1.2.0_build.7", "1.3"];

  it.each([
    ["*", "1.10.0"],
    [undefined, "1.10.0"],
    ["1.x", "1.10.0"],
    ["~1.2.0", "1.2.0+build.7"],
    [">=2.0.0-0", "2.0.0-rc.1"],
    ["1.2.0+build.7", "1.2.0+build.7"],
  ])("Given range %s / should pick %s as Flux does (strict SemVer tags, _ read as +)", (range, want) => {
    expect(selectOciVersion(tags, range)).toBe(want);
  });

  it("Given a range nothing matches / should say so as Flux does", () => {
    expect(() => selectOciVersion(tags, ">=3")).toThrow(
      "could not locate a version matching provided version string >=3",
    );
  });

  it("Given no SemVer tag at all / should say the repository has no tags", () => {
    expect(() => selectOciVersion(["latest", "main"], "*")).toThrow("unable to locate any tags");
  });

  it("Given a version with build metadata / should spell its tag with _ as Helm pushes it", () => {
    expect(tagOf("1.2.0+build.7")).toBe("1.2.0_build.7");
  });
});
