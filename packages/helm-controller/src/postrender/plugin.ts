// spec.postRenderers as Flux applies them: each post-renderer's kustomize `patches` (strategic merge or JSON6902,
// each with an optional target) and `images` run, in order, over the rendered manifests before helm installs or
// upgrades, so the patched objects are what Helm applies and stores (`helm get manifest` shows them).
//
// Around them, as Flux's helm-controller builds its post-renderer chain: spec.commonMetadata's labels and annotations
// are set on every object first, and Flux's origin labels `helm.toolkit.fluxcd.io/name` and `…/namespace` (the
// HelmRelease's name and namespace) last, on every object of every release, with or without spec.postRenderers.
// These two edit metadata only (not selectors or pod templates) and run in the script itself, without kustomize.
//
// Helm v4's post-renderers are plugins. For each pass the controller writes one into its own scratch directory:
// plugin.yaml (type postrenderer/v1, runtime subprocess) whose command is this Node binary running a script the
// controller writes next to it (RUNNER below, the controller's own code). The script runs the pinned kustomize once
// per post-renderer on a kustomization the controller wrote from the spec: inline patches and image rules only, no
// file references, so kustomize reads nothing but the rendered manifests. Tenant input is bounded (count and size,
// checked before anything runs), never executed; kustomize is bounded in time and output.
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CommonMetadata, PostRenderer } from "@capstan/api";
import { canonicalJson } from "../helm/release.js";

/** The plugin's name (helm's --post-renderer). */
export const pluginName = "capstan-postrender";

export const maxPostRenderers = 20;
export const maxPostRendererBytes = 256 * 1024;
/** Time one kustomize build may take. */
export const kustomizeTimeoutMs = 60_000;

/** Flux's observedPostRenderersDigest: sha256 of the post-renderers as canonical JSON; "" when there are none. */
export function postRenderersDigest(prs: readonly PostRenderer[] | undefined): string {
  if (!prs || prs.length === 0) return "";
  return `sha256:${createHash("sha256").update(canonicalJson(prs)).digest("hex")}`;
}

/** Flux's observedCommonMetadataDigest: sha256 of spec.commonMetadata as canonical JSON; "" when there is none. */
export function commonMetadataDigest(meta: CommonMetadata | undefined): string {
  if (!meta) return "";
  return `sha256:${createHash("sha256").update(canonicalJson(meta)).digest("hex")}`;
}

/** Labels Flux's helm-controller puts on every object of a release (its origin). */
export function originLabels(name: string, namespace: string): Record<string, string> {
  return { "helm.toolkit.fluxcd.io/name": name, "helm.toolkit.fluxcd.io/namespace": namespace };
}

/** Labels and annotations set on every object: spec.commonMetadata before the post-renderers, origin labels after. */
export interface MetadataEdits {
  common?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  origin: Record<string, string>;
  /** Bounds of the rendered release (--max-manifest-size, --max-manifest-objects). */
  limits: ManifestLimits;
}

/** A chart's output is tenant input: what helm renders is bounded before anything of it is applied. */
export interface ManifestLimits {
  maxBytes: number;
  maxObjects: number;
}

/** Why a spec's post-renderers cannot be used, or undefined. */
export function checkPostRenderers(prs: readonly PostRenderer[] | undefined): string | undefined {
  if (!prs || prs.length === 0) return undefined;
  if (prs.length > maxPostRenderers) return `more than ${maxPostRenderers} post-renderers`;
  if (JSON.stringify(prs).length > maxPostRendererBytes)
    return `post-renderers larger than ${maxPostRendererBytes} bytes`;
  for (const [i, pr] of prs.entries()) {
    for (const [j, p] of (pr.kustomize?.patches ?? []).entries()) {
      if (typeof p.patch !== "string" || p.patch.trim() === "")
        return `postRenderers[${i}].kustomize.patches[${j}]: empty patch`;
    }
    for (const [j, img] of (pr.kustomize?.images ?? []).entries()) {
      if (!img.name) return `postRenderers[${i}].kustomize.images[${j}]: name is required`;
    }
  }
  return undefined;
}

/** The kustomization of one post-renderer: the rendered manifests as its only resource, then patches and images. */
export function kustomizationOf(pr: PostRenderer): Record<string, unknown> {
  const k = pr.kustomize ?? {};
  const patches = (k.patches ?? []).map((p) => ({ patch: p.patch, ...(p.target ? { target: p.target } : {}) }));
  const images = (k.images ?? []).map((img) => ({
    name: img.name,
    ...(img.newName ? { newName: img.newName } : {}),
    ...(img.newTag ? { newTag: img.newTag } : {}),
    ...(img.digest ? { digest: img.digest } : {}),
  }));
  return {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    resources: ["resources.yaml"],
    ...(patches.length ? { patches } : {}),
    ...(images.length ? { images } : {}),
  };
}

// The script helm runs (as `node run.mjs <config>`): stdin → kustomize build per post-renderer → stdout. Helm keeps a
// plugin's stderr to itself, so a failure is also written to the config's errorFile for the controller to report.
const RUNNER = `import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const YAML = await import(config.yamlModule);
function fail(message) {
  writeFileSync(config.errorFile, message.slice(-2048));
  process.stderr.write(message);
  process.exit(1);
}
const chunks = [];
let size = 0;
for await (const chunk of process.stdin) {
  size += chunk.length;
  if (size > config.maxBytes) fail("rendered manifests larger than " + config.maxBytes + " bytes (--max-manifest-size)");
  chunks.push(chunk);
}
let manifest = Buffer.concat(chunks).toString("utf8");
// Sets labels and annotations in every object's metadata (helm's own annotations, which it splits the output by, stay).
function setMetadata(text, labels, annotations, what) {
  try {
    const docs = YAML.parseAllDocuments(text);
    if (docs.length > config.maxObjects) {
      fail("rendered manifests hold more than " + config.maxObjects + " objects (--max-manifest-objects)");
    }
    const out = [];
    for (const doc of docs) {
      if (doc.errors.length > 0) throw doc.errors[0];
      if (!YAML.isMap(doc.contents)) {
        if (doc.contents !== null) out.push(doc.toString());
        continue;
      }
      for (const [k, v] of Object.entries(labels ?? {})) doc.setIn(["metadata", "labels", k], v);
      for (const [k, v] of Object.entries(annotations ?? {})) doc.setIn(["metadata", "annotations", k], v);
      out.push(doc.toString());
    }
    return out.map((d) => (d.startsWith("---") ? d : "---\\n" + d)).join("");
  } catch (err) {
    fail(what + ": " + String(err.message ?? err).split("\\n")[0]);
  }
}
if (config.common) manifest = setMetadata(manifest, config.common.labels, config.common.annotations, "commonMetadata");
config.steps.forEach((kustomization, i) => {
  const dir = join(config.dir, "step-" + i);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, "resources.yaml"), manifest, { mode: 0o600 });
  writeFileSync(join(dir, "kustomization.yaml"), JSON.stringify(kustomization), { mode: 0o600 });
  try {
    manifest = execFileSync(config.kustomize, ["build", dir], {
      encoding: "utf8",
      timeout: config.timeoutMs,
      killSignal: "SIGKILL",
      maxBuffer: config.maxBytes,
      env: { PATH: "/usr/bin:/bin", HOME: dir },
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (err) {
    const why = err.signal ? "did not finish within " + config.timeoutMs / 1000 + "s" : String(err.stderr || err.message);
    fail("post-renderer " + i + ": kustomize build failed: " + why.replaceAll(dir, ".").replace(/^Error: /, "").trim());
  }
});
manifest = setMetadata(manifest, config.origin, undefined, "origin labels");
process.stdout.write(manifest);
`;

export interface PostRendererFiles {
  /** helm's --post-renderer value. */
  name: string;
  /** Where the runner writes why it failed. */
  errorFile: string;
}

/**
 * Writes the plugin into `<workDir>/.plugins` (helm's HELM_PLUGINS in the pass's scratch directory) and the
 * kustomizations it runs; returns what helm is given.
 */
export async function writePostRenderer(
  workDir: string,
  prs: readonly PostRenderer[],
  kustomizeBinary: string | undefined,
  edits: MetadataEdits,
  nodeBinary = process.execPath,
): Promise<PostRendererFiles> {
  if (prs.length > 0 && !kustomizeBinary) throw new Error("post-renderers need the kustomize binary");
  const pluginDir = join(workDir, ".plugins", pluginName);
  const dir = join(workDir, "postrender");
  await mkdir(pluginDir, { recursive: true, mode: 0o700 });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const runner = join(pluginDir, "run.mjs");
  const configPath = join(dir, "config.json");
  const errorFile = join(dir, "error.txt");
  await writeFile(runner, RUNNER, { mode: 0o600 });
  await writeFile(
    configPath,
    JSON.stringify({
      kustomize: kustomizeBinary ?? "",
      yamlModule: import.meta.resolve("yaml"),
      common: edits.common,
      origin: edits.origin,
      dir,
      errorFile,
      maxBytes: edits.limits.maxBytes,
      maxObjects: edits.limits.maxObjects,
      timeoutMs: kustomizeTimeoutMs,
      steps: prs.map(kustomizationOf),
    }),
    { mode: 0o600 },
  );
  // JSON is YAML; helm expands $VARS in the command and its args, which these paths do not contain.
  await writeFile(
    join(pluginDir, "plugin.yaml"),
    JSON.stringify({
      apiVersion: "v1",
      name: pluginName,
      type: "postrenderer/v1",
      runtime: "subprocess",
      version: "0.1.0",
      runtimeConfig: { platformCommand: [{ command: nodeBinary, args: [runner, configPath] }] },
    }),
    { mode: 0o600 },
  );
  return { name: pluginName, errorFile };
}

/** What the runner wrote about its failure, if anything. */
export async function postRenderFailure(files: PostRendererFiles): Promise<string | undefined> {
  try {
    const text = (await readFile(files.errorFile, "utf8")).trim();
    return text || undefined;
  } catch {
    return undefined;
  }
}
