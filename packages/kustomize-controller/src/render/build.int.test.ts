// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${var} is the substitution syntax itself
// The real pinned kustomize binary over a base with dev/staging/prod overlays.

import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBinaries } from "@capstan/cluster";
import { ReconcileError } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildManifests } from "./build.js";

let source: string;
let binary: string;

const base = {
  "apps/base/kustomization.yaml": "resources: [deployment.yaml, service.yaml]\n",
  "apps/base/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: nginx:1.27
          resources: { limits: { cpu: 100m, memory: 64Mi } }
`,
  "apps/base/service.yaml": `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: { app: web }
  ports: [{ port: 80 }]
`,
};

function overlay(env: string, replicas: number, cpu: string, memory: string): Record<string, string> {
  return {
    [`apps/${env}/kustomization.yaml`]: `resources: [../base]
patches:
  - target: { kind: Deployment, name: web }
    patch: |
      - op: replace
        path: /spec/replicas
        value: ${replicas}
      - op: replace
        path: /spec/template/spec/containers/0/resources/limits
        value: { cpu: ${cpu}, memory: ${memory} }
`,
  };
}

beforeAll(async () => {
  binary = (await ensureBinaries()).bin.kustomize;
  source = await mkdtemp(join(tmpdir(), "build-int-"));
  const tree = {
    ...base,
    ...overlay("dev", 1, "100m", "64Mi"),
    ...overlay("staging", 2, "250m", "128Mi"),
    ...overlay("prod", 5, "1500m", "512Mi"),
    "plain/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  env: ${ENV}\n",
    "remote/kustomization.yaml": "resources: [https://github.com/org/repo//deploy?ref=v1]\n",
    "broken/kustomization.yaml": "resources: [missing.yaml]\n",
  };
  for (const [path, text] of Object.entries(tree)) {
    await mkdir(join(source, path, ".."), { recursive: true });
    await writeFile(join(source, path), text);
  }
});
afterAll(async () => {
  await rm(source, { recursive: true, force: true });
});

type Dep = { kind: string; spec: { replicas: number; template: { spec: { containers: { resources: unknown }[] } } } };

describe("buildManifests with the real kustomize", () => {
  it.each([
    ["dev", 1, { cpu: "100m", memory: "64Mi" }],
    ["staging", 2, { cpu: "250m", memory: "128Mi" }],
    ["prod", 5, { cpu: "1500m", memory: "512Mi" }],
  ])("Given the %s overlay, should render its replicas and limits", async (env, replicas, limits) => {
    const objects = await buildManifests({
      sourceDir: source,
      path: `./apps/${env}`,
      overlay: { targetNamespace: `web-${env}`, namePrefix: `${env}-` },
      kustomize: { binary },
    });
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`).sort()).toEqual([
      `Deployment/web-${env}/${env}-web`,
      `Service/web-${env}/${env}-web`,
    ]);
    const dep = objects.find((o) => o.kind === "Deployment") as unknown as Dep;
    expect(dep.spec.replicas).toBe(replicas);
    expect(dep.spec.template.spec.containers[0]?.resources).toEqual({ limits });
  });

  it("Given a plain directory, should generate the kustomization and leave ${vars} for postBuild", async () => {
    const objects = await buildManifests({ sourceDir: source, path: "plain", overlay: {}, kustomize: { binary } });
    expect(objects).toHaveLength(1);
    expect((objects[0] as { data?: { env?: string } }).data?.env).toBe("${ENV}");
  });

  it("Given buildMetadata originAnnotations, should annotate each object with its origin in the source", async () => {
    const objects = await buildManifests({
      sourceDir: source,
      path: "plain",
      overlay: { buildMetadata: ["originAnnotations"] },
      kustomize: { binary },
    });
    expect(objects[0]?.metadata.annotations?.["config.kubernetes.io/origin"]).toBe("path: cm.yaml\n");
    const without = await buildManifests({ sourceDir: source, path: "plain", overlay: {}, kustomize: { binary } });
    expect(without[0]?.metadata.annotations?.["config.kubernetes.io/origin"]).toBeUndefined();
  });

  it("Given the build, should never write into the source directory", async () => {
    await buildManifests({ sourceDir: source, path: "plain", overlay: {}, kustomize: { binary } });
    expect(await readdir(join(source, "plain"))).toEqual(["cm.yaml"]);
  });

  it("Given a remote base, should refuse it with BuildFailed", async () => {
    await expect(
      buildManifests({ sourceDir: source, path: "remote", overlay: {}, kustomize: { binary } }),
    ).rejects.toThrowError(/remote reference/);
  });

  it("Given a missing resource, should fail with kustomize's error naming the file", async () => {
    const err = await buildManifests({ sourceDir: source, path: "broken", overlay: {}, kustomize: { binary } }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ reason: "BuildFailed" });
    expect(err).toBeInstanceOf(ReconcileError);
    expect((err as Error).message).toMatch(/missing\.yaml/);
    expect((err as Error).message).not.toContain(tmpdir());
  });

  it("Given a path outside the source, should refuse it", async () => {
    await expect(
      buildManifests({ sourceDir: source, path: "../..", overlay: {}, kustomize: { binary } }),
    ).rejects.toThrowError(/outside the source/);
  });

  describe("symlinks planted in the source (defence behind extraction)", () => {
    let outside: string;
    beforeAll(async () => {
      outside = await mkdtemp(join(tmpdir(), "build-outside-"));
      await writeFile(join(outside, "kustomization.yaml"), "resources: []\n");
      await writeFile(join(outside, "passwd"), "root:x:0:0::/root:/bin/sh\n");
      await mkdir(join(source, "planted", "kfile"), { recursive: true });
      await symlink(join(outside, "kustomization.yaml"), join(source, "planted", "kfile", "kustomization.yaml"));
      await symlink(outside, join(source, "planted", "dir"));
      await mkdir(join(source, "planted", "gen"), { recursive: true });
      await symlink(outside, join(source, "planted", "gen", "l"));
      await writeFile(
        join(source, "planted", "gen", "kustomization.yaml"),
        "configMapGenerator:\n  - name: stolen\n    files: [l/passwd]\n",
      );
    });
    afterAll(async () => {
      await rm(outside, { recursive: true, force: true });
    });

    it.each([
      [
        "a kustomization.yaml symlinked outside",
        "planted/kfile",
        /kustomization\.yaml is a symlink that points outside/,
      ],
      ["a spec.path that is a symlink outside", "planted/dir", /kustomization path 'planted\/dir' points outside/],
      ["a generator reading a file through a symlink", "planted/gen", /'l\/passwd' points outside the source/],
    ])("Given %s, should refuse it and leave the outside file untouched", async (_what, path, error) => {
      await expect(
        buildManifests({ sourceDir: source, path, overlay: { namePrefix: "p-" }, kustomize: { binary } }),
      ).rejects.toThrowError(error);
      expect(await readFile(join(outside, "kustomization.yaml"), "utf8")).toBe("resources: []\n");
      expect(await readdir(outside)).toEqual(["kustomization.yaml", "passwd"]);
    });
  });

  it("Given 10,000 documents that kustomize cannot build within the timeout, should say it is a size problem", async () => {
    const doc = (i: number) => `---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  k: v\n`;
    const big = await mkdtemp(join(tmpdir(), "build-big-"));
    try {
      await mkdir(join(big, "apps"));
      await writeFile(join(big, "apps", "all.yaml"), Array.from({ length: 10_000 }, (_, i) => doc(i)).join(""));
      const err = await buildManifests({
        sourceDir: big,
        path: "./apps",
        overlay: {},
        kustomize: { binary, timeoutMs: 2000 },
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ reason: "BuildFailed" });
      expect(err).toBeInstanceOf(ReconcileError);
      expect((err as Error).message).toBe(
        "kustomize build timed out after 2s; the source holds 10,000 resource documents under ./apps, beyond what " +
          "kustomize builds in that time; split it or raise spec.timeout",
      );
    } finally {
      await rm(big, { recursive: true, force: true });
    }
  });
});
