import { describe, expect, it } from "vitest";
import { vetEntry } from "./archive.js";

describe("vetEntry", () => {
  it.each([
    [{ path: "a/b.yaml", type: "File" }, undefined],
    [{ path: "a/", type: "Directory" }, undefined],
    [{ path: "/etc/passwd", type: "File" }, /escapes/],
    [{ path: "../x", type: "File" }, /escapes/],
    [{ path: "a/../../x", type: "File" }, /escapes/],
    [{ path: "a/l", type: "SymbolicLink", linkpath: "../b" }, undefined],
    [{ path: "a/l", type: "SymbolicLink", linkpath: "../../b" }, /outside/],
    [{ path: "l", type: "SymbolicLink", linkpath: "/etc/passwd" }, /outside/],
    [{ path: "h", type: "Link", linkpath: "../x" }, /outside/],
    [{ path: "dev", type: "CharacterDevice" }, /unsupported type/],
    [{ path: "fifo", type: "FIFO" }, /unsupported type/],
  ])("Given %o, should vet it", (entry, expected) => {
    const result = vetEntry(entry);
    if (expected === undefined) expect(result).toBeUndefined();
    else expect(result).toMatch(expected);
  });
});
