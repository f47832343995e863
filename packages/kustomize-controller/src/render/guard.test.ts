import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { assertLocalOnly } from "./guard.js";

let root: string;
beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), "guard-test-")));
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
    ["absolute resource", "resources:\n  - /etc/passwd\n", /'\/etc\/passwd' points outside the source \(absolute\)/],
    ["absolute generator file", "configMapGenerator:\n  - name: x\n    files: [/etc/passwd]\n", /absolute/],
    [
      "replacements source file",
      "replacements:\n  - path: ../../../etc/r.yaml\n",
      /'..\/..\/..\/etc\/r\.yaml' points outside/,
    ],
    ["openapi schema", "openapi:\n  path: /etc/schema.json\n", /'\/etc\/schema\.json' points outside/],
    ["configurations file", "configurations:\n  - ../../../etc/c.yaml\n", /points outside/],
    ["crds file", "crds:\n  - ../../../etc/crd.yaml\n", /points outside/],
    [
      "inline transformer reading a file",
      "transformers:\n  - |\n    apiVersion: builtin\n    kind: PatchTransformer\n    metadata: { name: p }\n    path: /etc/passwd\n",
      /absolute/,
    ],
    [
      "inline generator reading a file",
      "generators:\n  - apiVersion: builtin\n    kind: ConfigMapGenerator\n    metadata: { name: g }\n    files: [k=../../../etc/passwd]\n",
      /points outside/,
    ],
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

  describe("symlinks (judged by their real path, as kustomize opens them)", () => {
    it.each([
      ["a resource through a symlinked directory", "resources: [l/secret.yaml]\n"],
      [
        "a generator file through a symlinked directory",
        "configMapGenerator:\n  - name: x\n    files: [l/secret.yaml]\n",
      ],
      ["a base that is a symlink out", "resources: [l]\n"],
      ["a patch file through a symlink", "patches:\n  - path: l/secret.yaml\n"],
    ])("Given %s pointing outside the root, should refuse it", async (_what, text) => {
      const out = await realpath(await mkdtemp(join(tmpdir(), "guard-outside-")));
      try {
        await writeFile(join(out, "secret.yaml"), "kind: Secret\n");
        await mkdir(join(root, "apps"));
        await symlink(out, join(root, "apps", "l"));
        await writeFile(join(root, "apps", "kustomization.yaml"), text);
        await expect(assertLocalOnly(root, join(root, "apps"))).rejects.toThrowError(/points outside the source/);
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    });

    it("Given a transformer config file whose path key reads outside, should refuse it", async () => {
      await mkdir(join(root, "apps"));
      await writeFile(
        join(root, "apps", "t.yaml"),
        "apiVersion: builtin\nkind: PatchTransformer\nmetadata: { name: p }\npath: ../../x\n",
      );
      await writeFile(join(root, "apps", "kustomization.yaml"), "transformers: [t.yaml]\n");
      await expect(assertLocalOnly(root, join(root, "apps"))).rejects.toThrowError(/'..\/..\/x' points outside/);
    });

    it("Given a dangling symlink referenced as a file, should refuse it", async () => {
      await mkdir(join(root, "apps"));
      await symlink("../../nowhere/x.yaml", join(root, "apps", "x.yaml"));
      await writeFile(join(root, "apps", "kustomization.yaml"), "resources: [x.yaml]\n");
      await expect(assertLocalOnly(root, join(root, "apps"))).rejects.toThrowError(/'x\.yaml' points outside/);
    });

    it("Given symlinks that stay inside the root, should pass", async () => {
      await mkdir(join(root, "apps", "base"), { recursive: true });
      await writeFile(join(root, "apps", "base", "cm.yaml"), "kind: ConfigMap\n");
      await writeFile(join(root, "apps", "base", "kustomization.yaml"), "resources: [cm.yaml]\n");
      await symlink("base", join(root, "apps", "l"));
      await writeFile(join(root, "apps", "kustomization.yaml"), "resources: [l, l/cm.yaml]\n");
      await expect(assertLocalOnly(root, join(root, "apps"))).resolves.toBeUndefined();
    });
  });
});
