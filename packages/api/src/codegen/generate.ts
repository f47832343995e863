// Derives everything downstream of packages/api/crds/*.yaml: the TypeScript models in src/generated/ and the copies
// of the CRDs in the controllers' Helm charts. Run it with `pnpm --filter @capstan/api generate`; the unit test
// generate.test.ts fails while the checked-in outputs differ from what this produces.
//
// Kept in one file with no relative imports so that Node can run it directly (type stripping), without a build.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";

/** The subset of JSON Schema (as a CRD's openAPIV3Schema) the generator reads. */
interface Schema {
  description?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  default?: unknown;
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
}

interface CrdDocument {
  metadata: { name: string; labels?: Record<string, string>; [key: string]: unknown };
  spec: {
    group: string;
    names: { kind: string };
    versions: { name: string; schema: { openAPIV3Schema: Schema } }[];
  };
}

export interface GeneratedFile {
  /** Absolute path the file belongs at. */
  path: string;
  content: string;
}

/** Which chart ships the CRDs of an API group: the controller that owns the group. */
const chartByGroup: Record<string, string> = {
  "source.toolkit.fluxcd.io": "source-controller",
  "kustomize.toolkit.fluxcd.io": "kustomize-controller",
  "notification.toolkit.fluxcd.io": "notification-controller",
  "helm.toolkit.fluxcd.io": "helm-controller",
};

// Flux's Go type names for nested objects, so the models read like Flux's API reference rather than like paths.
// Keys are "<Kind>.<json path>", with [] for array items. Everything else is named after its path.
const typeNames: Record<string, string> = {
  "GitRepository.spec.ref": "GitRepositoryRef",
  "GitRepository.spec.verify": "GitRepositoryVerification",
  "GitRepository.spec.include[]": "GitRepositoryInclude",
  "GitRepository.spec.secretRef": "LocalObjectReference",
  "GitRepository.status.artifact": "Artifact",
  "GitRepository.status.conditions[]": "Condition",
  "Kustomization.spec.commonMetadata": "CommonMetadata",
  "Kustomization.spec.dependsOn[]": "DependencyReference",
  "Kustomization.spec.decryption": "Decryption",
  "Kustomization.spec.kubeConfig": "KubeConfigReference",
  "Kustomization.spec.kubeConfig.secretRef": "SecretKeyReference",
  "Kustomization.spec.postBuild": "PostBuild",
  "Kustomization.spec.postBuild.substituteFrom[]": "SubstituteReference",
  "Kustomization.spec.healthChecks[]": "NamespacedObjectKindReference",
  "Kustomization.spec.patches[]": "Patch",
  "Kustomization.spec.patches[].target": "Selector",
  "Kustomization.spec.images[]": "Image",
  "Kustomization.spec.sourceRef": "CrossNamespaceSourceReference",
  "Kustomization.spec.healthCheckExprs[]": "CustomHealthCheck",
  "Kustomization.spec.ignore[]": "IgnoreRule",
  "Kustomization.status.inventory": "ResourceInventory",
  "Kustomization.status.inventory.entries[]": "ResourceRef",
  "Kustomization.status.history[]": "Snapshot",
  "Alert.spec.providerRef": "LocalObjectReference",
  "Alert.spec.eventSources[]": "CrossNamespaceObjectReference",
  "Receiver.spec.resources[]": "ReceiverResource",
  "Receiver.spec.oidcProviders[]": "OIDCProvider",
  "Receiver.spec.oidcProviders[].variables[]": "OIDCVariable",
  "Receiver.spec.oidcProviders[].validations[]": "OIDCValidation",
  "HelmRelease.spec.chart": "HelmChartTemplate",
  "HelmRelease.spec.chartRef": "HelmReleaseChartRef",
  "HelmRelease.spec.valuesFrom[]": "ValuesReference",
  "HelmRelease.spec.install": "Install",
  "HelmRelease.spec.upgrade": "Upgrade",
  "HelmRelease.spec.rollback": "Rollback",
  "HelmRelease.spec.uninstall": "Uninstall",
  "HelmRelease.spec.test": "Test",
  "HelmRelease.spec.driftDetection": "DriftDetection",
  "HelmRelease.spec.postRenderers[]": "PostRenderer",
  "HelmRelease.status.history[]": "HelmReleaseSnapshot",
  "HelmRelease.status.conditions[]": "Condition",
  "HelmRelease.status.inventory": "ResourceInventory",
  "HelmRelease.status.inventory.entries[]": "ResourceRef",
  "HelmRelease.spec.kubeConfig": "KubeConfigReference",
  "HelmRelease.spec.kubeConfig.secretRef": "SecretKeyReference",
  "HelmRelease.spec.commonMetadata": "CommonMetadata",
  "HelmRelease.spec.chart.metadata": "CommonMetadata",
  "HelmRelease.spec.driftDetection.ignore[]": "IgnoreRule",
  "HelmRelease.spec.postRenderers[].kustomize.images[]": "Image",
  "HelmRelease.spec.driftDetection.ignore[].target": "Selector",
  "HelmRelease.spec.chart.spec.verify.secretRef": "LocalObjectReference",
  "HelmRelease.spec.dependsOn[]": "DependencyReference",
  "HelmRelease.spec.healthCheckExprs[]": "CustomHealthCheck",
  "HelmRelease.spec.postRenderers[].kustomize.patches[]": "Patch",
  "HelmRepository.spec.secretRef": "LocalObjectReference",
  "HelmRepository.spec.certSecretRef": "LocalObjectReference",
  "HelmRepository.spec.accessFrom": "AccessFrom",
  "HelmRepository.spec.accessFrom.namespaceSelectors[]": "NamespaceSelector",
  "HelmRepository.status.artifact": "Artifact",
  "HelmRepository.status.conditions[]": "Condition",
  "HelmChart.spec.sourceRef": "LocalHelmChartSourceReference",
  "HelmChart.spec.verify": "HelmChartVerification",
  "HelmChart.spec.verify.secretRef": "LocalObjectReference",
  "HelmChart.spec.verify.matchOIDCIdentity[]": "OIDCIdentityMatch",
  "HelmChart.status.artifact": "Artifact",
  "HelmChart.status.conditions[]": "Condition",
  "OCIRepository.spec.ref": "OCIRepositoryRef",
  "OCIRepository.spec.layerSelector": "OCILayerSelector",
  "OCIRepository.spec.verify": "OCIRepositoryVerification",
  "OCIRepository.spec.verify.matchOIDCIdentity[]": "OIDCIdentityMatch",
  "OCIRepository.spec.secretRef": "LocalObjectReference",
  "OCIRepository.status.artifact": "Artifact",
  "OCIRepository.status.conditions[]": "Condition",
  "OCIRepository.status.observedLayerSelector": "OCILayerSelector",
};

const modelsHeader = `// Generated by src/codegen/generate.ts from crds/*.yaml. Do not edit: change the CRD and run
// \`pnpm --filter @capstan/api generate\`.
import type { ObjectMeta } from "../meta.js";
`;

function chartHeader(source: string): string {
  return `# Generated from packages/api/crds/${source} by \`pnpm --filter @capstan/api generate\`. Do not edit.\n`;
}

/**
 * Labels the chart copy carries and the source does not: the flux CLI finds CRDs by app.kubernetes.io/part-of=flux
 * (`flux check`) and prints the version label of the GitRepository CRD as the distribution (`flux check`,
 * `flux version`). The version is the chart's appVersion, read from its Chart.yaml, so a release bumps it in one place.
 */
export function chartCrdLabels(chartDir: string, chart: string): Record<string, string> {
  const meta = parse(readFileSync(join(chartDir, "Chart.yaml"), "utf8")) as { appVersion?: unknown };
  if (typeof meta.appVersion !== "string") throw new Error(`generate: ${chartDir}/Chart.yaml has no appVersion`);
  return {
    "app.kubernetes.io/component": chart,
    "app.kubernetes.io/part-of": "flux",
    "app.kubernetes.io/version": meta.appVersion,
  };
}

export function readCrds(crdDir: string): { file: string; doc: CrdDocument }[] {
  return readdirSync(crdDir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((file) => ({ file, doc: parse(readFileSync(join(crdDir, file), "utf8")) as CrdDocument }));
}

/** Every generated file for the package at packageDir, in memory; `write` puts them on disk. */
export function generate(packageDir: string): GeneratedFile[] {
  const crds = readCrds(join(packageDir, "crds"));
  const chartsDir = resolve(packageDir, "../../charts");
  const files: GeneratedFile[] = crds.map(({ file, doc }) => {
    const chart = chartByGroup[doc.spec.group];
    if (!chart) throw new Error(`generate: no chart owns API group ${doc.spec.group} (${file})`);
    const labels = { ...doc.metadata.labels, ...chartCrdLabels(join(chartsDir, chart), chart) };
    const copy: CrdDocument = { ...doc, metadata: { ...doc.metadata, labels } };
    // Anchors in the source are resolved so the chart copy is plain YAML for any consumer.
    const body = stringify(copy, { aliasDuplicateObjects: false, lineWidth: 0 });
    return { path: join(chartsDir, chart, "crds", file), content: chartHeader(file) + body };
  });
  files.push({ path: join(packageDir, "src/generated/models.gen.ts"), content: renderModels(crds.map((c) => c.doc)) });
  return files;
}

export function write(files: GeneratedFile[]): void {
  for (const f of files) {
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(f.path, f.content);
  }
}

// ---- TypeScript rendering -------------------------------------------------------------------------------------

interface Emitter {
  /** Rendered interfaces in order of first use. */
  blocks: string[];
  /** Shape signature (schema without descriptions) → interface name, so equal shapes share one interface. */
  bySignature: Map<string, string>;
  /** Interface name → shape signature, to catch two different shapes wanting one name. */
  byName: Map<string, string>;
}

function renderModels(docs: CrdDocument[]): string {
  const em: Emitter = { blocks: [], bySignature: new Map(), byName: new Map() };
  // Kinds sorted so the output does not depend on file names.
  const sorted = [...docs].sort((a, b) => a.spec.names.kind.localeCompare(b.spec.names.kind));
  for (const doc of sorted) {
    const version = doc.spec.versions[0];
    if (!version || doc.spec.versions.length !== 1) {
      throw new Error(`generate: ${doc.spec.names.kind} must serve exactly one version`);
    }
    renderRoot(em, doc.spec.names.kind, `${doc.spec.group}/${version.name}`, version.schema.openAPIV3Schema);
  }
  return `${modelsHeader}\n${em.blocks.join("\n")}`;
}

function renderRoot(em: Emitter, kind: string, apiVersion: string, schema: Schema): void {
  const props = schema.properties ?? {};
  const lines: string[] = [];
  lines.push(...docComment(schema, ""));
  lines.push(`export interface ${kind} {`);
  lines.push(`  apiVersion: ${JSON.stringify(apiVersion)};`);
  lines.push(`  kind: ${JSON.stringify(kind)};`);
  lines.push("  metadata: ObjectMeta;");
  for (const [key, sub] of Object.entries(props)) {
    if (key === "apiVersion" || key === "kind" || key === "metadata") continue;
    // spec is optional in the schema (as in Flux) but an object without one is unusable, so the model requires it
    // whenever the spec has required fields; status is absent until a controller writes it.
    const optional = key === "status" || !(sub.required && sub.required.length > 0);
    lines.push(...docComment(sub, "  "));
    lines.push(`  ${key}${optional ? "?" : ""}: ${typeOf(em, sub, `${kind}.${key}`, kind)};`);
  }
  lines.push("}");
  em.blocks.push(`${lines.join("\n")}\n`);
}

function typeOf(em: Emitter, schema: Schema, path: string, kind: string): string {
  if (schema["x-kubernetes-int-or-string"]) return "number | string";
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  switch (schema.type) {
    case "string":
      return "string";
    case "integer":
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "array": {
      if (!schema.items) throw new Error(`generate: ${path} is an array without items`);
      const item = typeOf(em, schema.items, `${path}[]`, kind);
      return item.includes(" ") ? `(${item})[]` : `${item}[]`;
    }
    case "object":
      if (schema.properties) return namedInterface(em, schema, path, kind);
      if (typeof schema.additionalProperties === "object") {
        return `Record<string, ${typeOf(em, schema.additionalProperties, `${path}{}`, kind)}>`;
      }
      return "Record<string, unknown>";
    default:
      if (schema["x-kubernetes-preserve-unknown-fields"]) return "unknown";
      throw new Error(`generate: ${path} has no type`);
  }
}

function namedInterface(em: Emitter, schema: Schema, path: string, kind: string): string {
  const signature = JSON.stringify(schema, (k, v) => (k === "description" ? undefined : v));
  const known = em.bySignature.get(signature);
  if (known) return known;
  const name = typeNames[path] ?? pathName(path);
  const taken = em.byName.get(name);
  if (taken !== undefined && taken !== signature) {
    throw new Error(`generate: two different shapes are both named ${name} (second at ${path})`);
  }
  em.bySignature.set(signature, name);
  em.byName.set(name, signature);

  const required = new Set(schema.required ?? []);
  // No interface-level comment: the description belongs to the field that first used the shape, and it is already
  // on that field.
  const lines: string[] = [`export interface ${name} {`];
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    const field = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : JSON.stringify(key);
    lines.push(...docComment(sub, "  "));
    lines.push(`  ${field}${required.has(key) ? "" : "?"}: ${typeOf(em, sub, `${path}.${key}`, kind)};`);
  }
  lines.push("}");
  em.blocks.push(`${lines.join("\n")}\n`);
  return name;
}

/** "Kustomization.spec.postBuild.substituteFrom[]" → "KustomizationSpecPostBuildSubstituteFrom". */
function pathName(path: string): string {
  return path
    .replace(/\[\]|\{\}/g, "")
    .split(".")
    .map((s) => s.charAt(0).toUpperCase() + s.slice(1))
    .join("");
}

function docComment(schema: Schema, indent: string): string[] {
  const parts: string[] = [];
  if (schema.description) parts.push(...schema.description.trim().split("\n"));
  if (schema.default !== undefined)
    parts.push(`@defaultValue ${JSON.stringify(schema.default)} (set by the apiserver)`);
  if (parts.length === 0) return [];
  // "*/" inside a description would end the comment early.
  const safe = parts.map((p) => p.replaceAll("*/", "*\\/"));
  if (safe.length === 1) return [`${indent}/** ${safe[0]} */`];
  return [`${indent}/**`, ...safe.map((p) => `${indent} * ${p}`), `${indent} */`];
}

if (import.meta.main) {
  const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
  const files = generate(packageDir);
  write(files);
  for (const f of files) console.log(`generate: wrote ${relative(process.cwd(), f.path) || basename(f.path)}`);
}
