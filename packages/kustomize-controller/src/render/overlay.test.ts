import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { writeOverlay } from "./overlay.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "overlay-test-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n`;

async function files(tree: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(tree)) {
    await mkdir(join(root, path, ".."), { recursive: true });
    await writeFile(join(root, path), text);
  }
}

describe("writeOverlay", () => {
  it("Given a path without kustomization.yaml, should generate one listing YAML files and kustomize sub-dirs", async () => {
    await files({
      "a.yaml": cm("a"),
      "nested/b.yml": cm("b"),
      "base/kustomization.yaml": "resources: [c.yaml]\n",
      "base/c.yaml": cm("c"),
      "README.md": "# not a resource",
    });
    const result = await writeOverlay(root, root, {});
    expect(result.generated).toBe(true);
    const kus = parse(await readFile(join(root, "kustomization.yaml"), "utf8"));
    expect(kus.resources).toEqual(["./a.yaml", "./base", "./nested/b.yml"]);
  });

  it("Given spec.buildMetadata, should replace the kustomization's buildMetadata list with it, as Flux does", async () => {
    await files({ "kustomization.yaml": "resources: [a.yaml]\nbuildMetadata: [managedByLabel]\n", "a.yaml": cm("a") });
    await writeOverlay(root, root, { buildMetadata: ["originAnnotations", "transformerAnnotations"] });
    const kus = parse(await readFile(join(root, "kustomization.yaml"), "utf8"));
    expect(kus.buildMetadata).toEqual(["originAnnotations", "transformerAnnotations"]);
  });

  it("Given no spec.buildMetadata, should keep the kustomization's own list", async () => {
    await files({ "kustomization.yaml": "resources: [a.yaml]\nbuildMetadata: [managedByLabel]\n", "a.yaml": cm("a") });
    await writeOverlay(root, root, {});
    const kus = parse(await readFile(join(root, "kustomization.yaml"), "utf8"));
    expect(kus.buildMetadata).toEqual(["managedByLabel"]);
  });

  it("Given a YAML file that is not a Kubernetes object, should fail naming the file", async () => {
    await files({ "ci.yaml": "stages: [build]\n" });
    await expect(writeOverlay(root, root, {})).rejects.toThrowError(/ci\.yaml/);
  });

  it("Given spec fields, should layer targetNamespace, prefix/suffix, patches, images and components", async () => {
    await files({
      "kustomization.yaml": "resources: [a.yaml]\nimages:\n  - name: nginx\n    newTag: '1.0'\n",
      "a.yaml": cm("a"),
      "comp/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n",
    });
    const result = await writeOverlay(root, root, {
      targetNamespace: "prod",
      namePrefix: "p-",
      nameSuffix: "-s",
      patches: [{ patch: "- op: add\n  path: /data\n  value: {}", target: { kind: "ConfigMap", name: "a" } }],
      images: [
        { name: "nginx", newTag: "2.0" },
        { name: "redis", newName: "my/redis", digest: "sha256:abc" },
      ],
      components: ["comp", "missing"],
      ignoreMissingComponents: true,
    });
    expect(result.generated).toBe(false);
    const kus = parse(await readFile(join(root, "kustomization.yaml"), "utf8"));
    expect(kus).toMatchObject({
      namespace: "prod",
      namePrefix: "p-",
      nameSuffix: "-s",
      patches: [{ target: { kind: "ConfigMap", name: "a" } }],
      images: [
        { name: "nginx", newTag: "2.0" },
        { name: "redis", newName: "my/redis", digest: "sha256:abc" },
      ],
      components: ["comp"],
    });
  });

  it.each(["https://github.com/x/y", "../../outside"])("Given component %s, should refuse it", async (component) => {
    await files({ "kustomization.yaml": "resources: []\n" });
    await expect(writeOverlay(root, root, { components: [component] })).rejects.toMatchObject({
      reason: "BuildFailed",
    });
  });
});
