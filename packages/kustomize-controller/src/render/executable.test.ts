import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveExecutable } from "./executable.js";

describe("Given a kustomize binary name", () => {
  const dir = mkdtempSync(join(tmpdir(), "exe-"));
  const bin = join(dir, "kustomize");
  writeFileSync(bin, "#!/bin/sh\n");
  chmodSync(bin, 0o755);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("should resolve a bare name against PATH to an absolute path", () => {
    expect(resolveExecutable("kustomize", `/nonexistent:${dir}`)).toBe(bin);
  });

  it("should accept an explicit path", () => {
    expect(resolveExecutable(bin, "")).toBe(bin);
  });

  it("should say how to fix a missing binary", () => {
    expect(() => resolveExecutable("kustomize", "/nonexistent")).toThrow(/not found on PATH.*--kustomize-path/);
  });
});
