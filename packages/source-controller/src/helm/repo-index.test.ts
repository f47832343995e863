import { describe, expect, it } from "vitest";
import { parseIndex, selectChartVersion } from "./repo-index.js";

const index = parseIndex(
  Buffer.from(`apiVersion: v1
entries:
  app:
    - {name: app, version: 1.0.0, urls: [app-1.0.0.tgz]}
    - {name: app, version: 1.10.0, urls: [app-1.10.0.tgz]}
    - {name: app, version: 1.2.0, urls: [app-1.2.0.tgz]}
    - {name: app, version: 2.0.0-rc.1, urls: [app-2.0.0-rc.1.tgz]}
    - {name: app, version: not-semver, urls: [x.tgz]}
    - {name: app, version: 3.0.0}
generated: "2024-01-01T00:00:00Z"
`),
);

describe("Helm repository index", () => {
  it("Given entries Helm would skip / should drop them and sort the rest newest first", () => {
    expect(index.entries.app?.map((e) => e.version)).toEqual(["2.0.0-rc.1", "1.10.0", "1.2.0", "1.0.0"]);
  });

  it.each([
    [undefined, "1.10.0"],
    ["*", "1.10.0"],
    ["1.x", "1.10.0"],
    ["~1.2", "1.2.0"],
    [">=1.0.0, <1.5.0", "1.2.0"],
    ["1.0.0", "1.0.0"],
    ["2.0.0-rc.1", "2.0.0-rc.1"],
    [">=2.0.0-0", "2.0.0-rc.1"],
  ])("Given the range %s / should select %s (latest stable for '*', prereleases only when asked)", (range, version) => {
    expect(selectChartVersion(index, "app", range).version).toBe(version);
  });

  it("Given a range nothing matches, or an unknown chart / should say so as Flux does", () => {
    expect(() => selectChartVersion(index, "app", ">=5")).toThrow("no 'app' chart with version matching '>=5' found");
    expect(() => selectChartVersion(index, "other", "*")).toThrow("no chart name found");
  });

  it("Given an index without apiVersion, or not YAML / should refuse it", () => {
    expect(() => parseIndex(Buffer.from("entries: {}\n"))).toThrow("no API version specified");
    expect(() => parseIndex(Buffer.from("apiVersion: [\n"))).toThrow(/error unmarshaling YAML/);
  });
});
