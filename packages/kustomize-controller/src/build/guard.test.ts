import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { assertLocalOnly } from "./guard.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "guard-test-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("assertLocalOnly", () => {
  it.each([
    ["remote resource", "resources:\n  - https://github.com/org/repo//deploy?ref=v1\n", /remote reference/],
    ["git ssh base", "resources:\n  - git@github.com:org/repo.git\n", /remote reference/],
    ["github shorthand", "resources:\n  - github.com/org/repo/deploy\n", /remote reference/],
    ["escaping path", "resources:\n  - ../../../etc\n", /outside the source/],
    ["escaping generator file", "configMapGenerator:\n  - name: x\n    files: [k=../../../etc/passwd]\n", /outside/],
    ["helm chart", "helmCharts:\n  - name: x\n    repo: https://charts\n", /helmCharts/],
  ])("Given a %s, should refuse it naming the file", async (_what, text, error) => {
    await mkdir(join(root, "apps"), { recursive: true });
    await writeFile(join(root, "kustomization.yaml"), "resources: [apps]\n");
    await writeFile(join(root, "apps", "kustomization.yaml"), text);
    await expect(assertLocalOnly(root, root)).rejects.toThrowError(error);
    await expect(assertLocalOnly(root, root)).rejects.toThrowError(/apps\/kustomization\.yaml/);
  });

  it("Given a remote reference in a kustomization the build does not reach, should not refuse", async () => {
    await mkdir(join(root, "other"), { recursive: true });
    await mkdir(join(root, "apps"), { recursive: true });
    await writeFile(join(root, "other", "kustomization.yaml"), "resources: [https://example.com/x.yaml]\n");
    await writeFile(join(root, "apps", "kustomization.yaml"), "resources: []\n");
    await expect(assertLocalOnly(root, join(root, "apps"))).resolves.toBeUndefined();
  });

  it("Given local references only, should pass", async () => {
    await mkdir(join(root, "apps", "base"), { recursive: true });
    await writeFile(join(root, "apps", "kustomization.yaml"), "resources: [base, ../apps/base]\n");
    await expect(assertLocalOnly(root, join(root, "apps"))).resolves.toBeUndefined();
  });
});
