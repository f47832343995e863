import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { lazyModule, lazyStep } from "./lazy.js";

const srcDir = dirname(fileURLToPath(import.meta.url));
const packageDir = join(srcDir, "..");

// Imports `entry` from source in a fresh Node process (the way bench/peer and the process tests run TypeScript) and
// returns every module URL it resolved.
async function modulesLoadedBy(entry: string): Promise<string[]> {
  const script = `
    import { registerHooks } from "node:module";
    const seen = new Set();
    registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.add(r.url); return r; } });
    await import(${JSON.stringify(pathToFileURL(entry).href)});
    console.log(JSON.stringify([...seen]));`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      "--experimental-transform-types",
      "--no-warnings",
      "--conditions=capstan-source",
      "--import",
      "@capstan/cluster/ts-hooks.mjs",
      "--input-type=module",
      "-e",
      script,
    ],
    { cwd: packageDir, maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as string[];
}

describe("what the controller loads at start", () => {
  it("Given the controller's wiring imported / should load the GitRepository code and none of Helm's, OCI's, execa or tar", async () => {
    const loaded = await modulesLoadedBy(join(srcDir, "controller.ts"));
    const has = (part: string) => loaded.some((url) => url.includes(part));
    // The check itself works: what the GitRepository reconciler runs is there.
    expect(has("/src/gitrepository/steps.ts")).toBe(true);
    expect(has("/src/git/exec.ts")).toBe(true);
    expect(has("/src/storage/archive.ts")).toBe(true);
    // Loaded on the first reconcile of their kind, or on first use (spec.verify, spec.include) only.
    for (const part of [
      "/src/helmrepository/steps.ts",
      "/src/helmchart/steps.ts",
      "/src/ocirepository/steps.ts",
      "/src/helm/repo-index.ts",
      "/src/helm/chart.ts",
      "/src/ocirepository/client.ts",
      "/node_modules/execa/",
      "/node_modules/tar/",
    ]) {
      expect(has(part), part).toBe(false);
    }
  }, 60_000);
});

describe("lazyModule / lazyStep", () => {
  it("Given a step used three times / should load its module and build the step once", async () => {
    let loads = 0;
    let builds = 0;
    const load = lazyModule(async () => {
      loads++;
      return { double: (n: number) => n * 2 };
    });
    const runs: number[] = [];
    const step = lazyStep<{ double: (n: number) => number }, { n: number }, number[]>("double", load, (m) => {
      builds++;
      return async (_ctx, obj, state) => {
        state.push(m.double(obj.n));
        return undefined;
      };
    });
    const ctx = {} as Parameters<typeof step>[0];
    for (const n of [1, 2, 3]) await step(ctx, { n }, runs);
    expect(runs).toEqual([2, 4, 6]);
    expect([loads, builds]).toEqual([1, 1]);
  });

  it("Given a module that fails to load once / should fail that call and load it again on the next", async () => {
    let attempts = 0;
    const load = lazyModule(async () => {
      attempts++;
      if (attempts === 1) throw new Error("EMFILE");
      return "loaded";
    });
    await expect(load()).rejects.toThrow("EMFILE");
    await expect(load()).resolves.toBe("loaded");
    await expect(load()).resolves.toBe("loaded");
    expect(attempts).toBe(2);
  });
});
