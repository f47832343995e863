import { describe, expect, it } from "vitest";
import { mergeValues } from "./merge.js";
import { parseTargetPath, setAtPath, TargetPathError, typedValue } from "./target-path.js";

describe("Given Helm --set paths (valuesFrom[].targetPath)", () => {
  it.each([
    ["a.b.c", [{ key: "a" }, { key: "b" }, { key: "c" }]],
    ["list[1].name", [{ key: "list" }, { index: 1 }, { key: "name" }]],
    ["dotted\\.key.x", [{ key: "dotted.key" }, { key: "x" }]],
  ])("should parse %s", (path, segments) => {
    expect(parseTargetPath(path)).toEqual(segments);
  });

  it.each(["", "a..b", "a[x]", "a[999999]"])("should refuse %j", (path) => {
    expect(() => parseTargetPath(path)).toThrow(TargetPathError);
  });

  it("should create maps and lists on the way and replace what is there", () => {
    const v: Record<string, unknown> = { a: { keep: true, b: "old" } };
    setAtPath(v, "a.b", 2);
    setAtPath(v, "list[1].name", "x");
    expect(v).toEqual({ a: { keep: true, b: 2 }, list: [null, { name: "x" }] });
  });

  it.each([
    ["true", true],
    ["false", false],
    ["null", null],
    ["42", 42],
    ["-7", -7],
    ["1.5", "1.5"],
    ["007", "007"],
    ["text", "text"],
  ])("should type %j as --set does", (text, value) => {
    expect(typedValue(text)).toEqual(value);
  });
});

describe("Given two values maps", () => {
  it("should merge maps recursively and let the overlay replace lists and scalars", () => {
    expect(mergeValues({ a: { x: 1, y: [1, 2] }, s: "base" }, { a: { y: [3], z: 2 }, s: "over" })).toEqual({
      a: { x: 1, y: [3], z: 2 },
      s: "over",
    });
  });
});
