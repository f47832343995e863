import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { installArgs, upgradeArgs } from "../helm/actions.js";
import { checkPostRenderers, kustomizationOf, originLabels, postRenderersDigest, writePostRenderer } from "./plugin.js";

const limits = { maxBytes: 1024 * 1024, maxObjects: 100 };

const pr = {
  kustomize: {
    patches: [{ patch: "- op: add\n  path: /x\n  value: 1\n", target: { kind: "Deployment", name: "web" } }],
    images: [{ name: "nginx", newTag: "1.27" }],
  },
};

describe("Given a HelmRelease's postRenderers", () => {
  it("should make one kustomization per post-renderer with inline patches and image rules only", () => {
    expect(kustomizationOf(pr)).toEqual({
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      resources: ["resources.yaml"],
      patches: [{ patch: pr.kustomize.patches[0]?.patch, target: { kind: "Deployment", name: "web" } }],
      images: [{ name: "nginx", newTag: "1.27" }],
    });
  });

  it("should digest them (none: empty, as status.observedPostRenderersDigest is then unset), key order aside", () => {
    expect(postRenderersDigest(undefined)).toBe("");
    expect(postRenderersDigest([])).toBe("");
    const reordered = { kustomize: { images: pr.kustomize.images, patches: pr.kustomize.patches } };
    expect(postRenderersDigest([pr])).toBe(postRenderersDigest([reordered]));
    expect(postRenderersDigest([pr])).not.toBe(postRenderersDigest([{ kustomize: { images: [{ name: "x" }] } }]));
  });

  it("should refuse too many, too large, or empty ones before anything runs", () => {
    expect(checkPostRenderers([pr])).toBeUndefined();
    expect(checkPostRenderers(Array.from({ length: 21 }, () => pr))).toMatch(/more than 20/);
    expect(checkPostRenderers([{ kustomize: { patches: [{ patch: "x".repeat(300_000) }] } }])).toMatch(/larger than/);
    expect(checkPostRenderers([{ kustomize: { patches: [{ patch: " " }] } }])).toMatch(/empty patch/);
  });

  it("should give helm the plugin by name on install and upgrade only when there are post-renderers", () => {
    const o = { timeoutMs: 1000, maxHistory: 5 };
    expect(installArgs("r", "c", "v", {}, o)).not.toContain("--post-renderer");
    expect(installArgs("r", "c", "v", {}, { ...o, postRenderer: "capstan-postrender" }).slice(-2)).toEqual([
      "--post-renderer",
      "capstan-postrender",
    ]);
    expect(upgradeArgs("r", "c", "v", {}, { ...o, postRenderer: "capstan-postrender" }).slice(-2)).toEqual([
      "--post-renderer",
      "capstan-postrender",
    ]);
  });

  it("should write a subprocess post-renderer plugin running the controller's own script with this Node", async () => {
    const dir = await mkdtemp(join(tmpdir(), "postrender-"));
    try {
      const files = await writePostRenderer(dir, [pr], "/opt/kustomize", { origin: { a: "b" }, limits });
      expect(files.name).toBe("capstan-postrender");
      const plugin = JSON.parse(await readFile(join(dir, ".plugins", "capstan-postrender", "plugin.yaml"), "utf8"));
      expect(plugin).toMatchObject({ apiVersion: "v1", type: "postrenderer/v1", runtime: "subprocess" });
      expect(plugin.runtimeConfig.platformCommand[0].command).toBe(process.execPath);
      const config = JSON.parse(await readFile(join(dir, "postrender", "config.json"), "utf8"));
      expect(config.kustomize).toBe("/opt/kustomize");
      expect(config.steps).toEqual([kustomizationOf(pr)]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("Given a release's common metadata and origin labels and no post-renderers", () => {
  it("should set them in every object's metadata only, keep helm's annotations and comments, without kustomize", async () => {
    const dir = await mkdtemp(join(tmpdir(), "postrender-"));
    try {
      await writePostRenderer(dir, [], undefined, {
        common: { labels: { team: "a" }, annotations: { note: "x" } },
        origin: originLabels("app", "apps"),
        limits,
      });
      const manifest = [
        "---",
        "# Source: demo/templates/cm.yaml",
        "apiVersion: v1",
        "kind: ConfigMap",
        "metadata:",
        "  name: c",
        "  annotations:",
        "    postrenderer.helm.sh/postrender-filename: demo/templates/cm.yaml",
        "  labels:",
        "    team: old",
        "---",
        "apiVersion: apps/v1",
        "kind: Deployment",
        "metadata: {name: d}",
        "spec:",
        "  selector: {matchLabels: {app: d}}",
        "  template: {metadata: {labels: {app: d}}}",
        "",
      ].join("\n");
      const out = execFileSync(
        process.execPath,
        [join(dir, ".plugins", "capstan-postrender", "run.mjs"), join(dir, "postrender", "config.json")],
        { input: manifest, encoding: "utf8" },
      );
      expect(out).toContain("# Source: demo/templates/cm.yaml");
      const docs = parseAllDocuments(out).map((d) => d.toJS());
      expect(docs).toHaveLength(2);
      const labels = { team: "a", "helm.toolkit.fluxcd.io/name": "app", "helm.toolkit.fluxcd.io/namespace": "apps" };
      expect(docs[0].metadata).toEqual({
        name: "c",
        labels,
        annotations: { "postrenderer.helm.sh/postrender-filename": "demo/templates/cm.yaml", note: "x" },
      });
      expect(docs[1].metadata).toEqual({ name: "d", labels, annotations: { note: "x" } });
      expect(docs[1].spec).toEqual({
        selector: { matchLabels: { app: "d" } },
        template: { metadata: { labels: { app: "d" } } },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("Given install.crds CreateReplace", () => {
  it("should keep helm off crds/ (the controller applies them itself before the install)", () => {
    const o = { timeoutMs: 1000, maxHistory: 5 };
    expect(installArgs("r", "c", "v", { crds: "CreateReplace" }, o)).toContain("--skip-crds");
    expect(installArgs("r", "c", "v", { crds: "Create" }, o)).not.toContain("--skip-crds");
  });
});
