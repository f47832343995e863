import { parseFlags } from "@capstan/runtime";
import { afterEach, describe, expect, it, vi } from "vitest";

describe("--artifact-cache-dir", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  // Two kustomize-controllers on one machine (local runs, benches, tests side by side) once shared
  // /tmp/kustomize-controller: each one's cache collection deleted the other's artifacts mid-build (ENOENT).
  it("should default under the process's TMPDIR, so two processes never share a cache", async () => {
    vi.stubEnv("TMPDIR", "/run/one");
    vi.resetModules();
    const one = await import("./flags.js");
    const parsed = parseFlags("kustomize-controller", one.kustomizeControllerFlags, []);
    expect(parsed.help).toBe(false);
    if (parsed.help) return;
    expect(parsed.values.artifactCacheDir).toBe("/run/one/kustomize-controller/artifacts");

    vi.stubEnv("TMPDIR", "/run/two");
    vi.resetModules();
    const two = await import("./flags.js");
    const again = parseFlags("kustomize-controller", two.kustomizeControllerFlags, []);
    if (again.help) throw new Error("unexpected help");
    expect(again.values.artifactCacheDir).toBe("/run/two/kustomize-controller/artifacts");
  });
});
