// Writes the kustomization.yaml that Flux's generator would: generate one listing the resources when the path has
// none, then layer the Kustomization's targetNamespace, namePrefix/nameSuffix, patches, images, components and
// buildMetadata on it.

import { readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { type Image, KustomizationReasons, type Patch, type Selector } from "@capstan/api";
import { ReconcileError } from "@capstan/runtime";
import { parseAllDocuments, parse as parseYaml, stringify } from "yaml";
import { isRecord } from "../object.js";
import { isRemoteReference, resolveInside, resolveRealInside } from "./paths.js";

export const kustomizationFileNames = ["kustomization.yaml", "kustomization.yml", "Kustomization"] as const;

export type { Image, Patch, Selector } from "@capstan/api";

/** The spec fields of a Kustomization that shape the overlay. */
export interface OverlaySpec {
  targetNamespace?: string;
  namePrefix?: string;
  nameSuffix?: string;
  patches?: Patch[];
  images?: Image[];
  components?: string[];
  ignoreMissingComponents?: boolean;
  /** kustomize build metadata options; when set they replace the kustomization's own list, as in Flux. */
  buildMetadata?: string[];
}

export interface OverlayResult {
  /** The kustomization file was generated (the path had none). */
  generated: boolean;
  /** Resources of a generated kustomization; empty means there is nothing to build. */
  resources: string[];
  file: string;
}

async function existingKustomization(dir: string): Promise<string | undefined> {
  for (const name of kustomizationFileNames) {
    const file = join(dir, name);
    const s = await stat(file).catch(() => undefined);
    if (s?.isFile()) return file;
  }
  return undefined;
}

/** Lists YAML files and sub-directories holding a kustomization, as Flux's generator scan does. */
async function scanResources(root: string, dir: string, out: string[]): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (await existingKustomization(path)) out.push(`./${relative(root, path).split(sep).join("/")}`);
      else await scanResources(root, path, out);
      continue;
    }
    if (!entry.isFile() || !/\.ya?ml$/.test(entry.name)) continue;
    const rel = relative(root, path).split(sep).join("/");
    const text = await readFile(path, "utf8");
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) {
        throw new ReconcileError(`failed to decode Kubernetes YAML from ${rel}: ${doc.errors[0]?.message}`, {
          reason: KustomizationReasons.BuildFailed,
        });
      }
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) continue;
      if (!isRecord(value) || typeof value.kind !== "string" || typeof value.apiVersion !== "string") {
        throw new ReconcileError(`failed to decode Kubernetes YAML from ${rel}: missing apiVersion or kind`, {
          reason: KustomizationReasons.BuildFailed,
        });
      }
    }
    out.push(`./${rel}`);
  }
}

function asSelector(t: Selector | undefined): Record<string, string> | undefined {
  if (!t) return undefined;
  const out: Record<string, string> = {};
  for (const key of ["group", "version", "kind", "name", "namespace", "labelSelector", "annotationSelector"] as const) {
    const v = t[key];
    if (v) out[key] = v;
  }
  return out;
}

/**
 * Generates or amends the kustomization file in `dir` (inside `root`, the extracted artifact). The caller owns `dir`:
 * this writes into it.
 */
export async function writeOverlay(root: string, dir: string, spec: OverlaySpec): Promise<OverlayResult> {
  let file = await existingKustomization(dir);
  if (file !== undefined && (await resolveRealInside(root, file)) === undefined)
    throw new ReconcileError(`${relative(root, file)} is a symlink that points outside the source`, {
      reason: KustomizationReasons.BuildFailed,
    });
  const generated = file === undefined;
  let kus: Record<string, unknown>;
  const resources: string[] = [];
  if (file === undefined) {
    await scanResources(dir, dir, resources);
    file = join(dir, "kustomization.yaml");
    kus = { apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources };
  } else {
    const text = await readFile(file, "utf8");
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (cause) {
      throw new ReconcileError(`${relative(root, file)}: invalid YAML: ${(cause as Error).message}`, {
        reason: KustomizationReasons.BuildFailed,
        cause,
      });
    }
    kus = isRecord(parsed) ? parsed : {};
    kus.apiVersion ??= "kustomize.config.k8s.io/v1beta1";
    kus.kind ??= "Kustomization";
  }

  if (spec.targetNamespace) kus.namespace = spec.targetNamespace;
  if (spec.namePrefix) kus.namePrefix = spec.namePrefix;
  if (spec.nameSuffix) kus.nameSuffix = spec.nameSuffix;

  if (spec.patches?.length) kus.patches = mergePatches(kus.patches, spec.patches);
  if (spec.images?.length) kus.images = mergeImages(kus.images, spec.images);
  if (spec.components?.length) kus.components = await mergeComponents(root, dir, kus.components, spec);
  if (spec.buildMetadata?.length) kus.buildMetadata = [...spec.buildMetadata];

  // Replace, never write through: if the kustomization file is a symlink, the write must not land where it points.
  await rm(file, { force: true });
  await writeFile(file, stringify(kus, { lineWidth: 0 }), { flag: "wx" });
  return { generated, resources, file };
}

function mergePatches(existing: unknown, patches: Patch[]): unknown[] {
  const out = Array.isArray(existing) ? [...existing] : [];
  for (const p of patches) {
    const target = asSelector(p.target);
    out.push(target ? { patch: p.patch, target } : { patch: p.patch });
  }
  return out;
}

/** An image of the spec replaces the kustomization's entry of the same name, as Flux does. */
function mergeImages(existing: unknown, images: Image[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = Array.isArray(existing) ? existing.filter(isRecord) : [];
  for (const img of images) {
    const entry: Record<string, unknown> = { name: img.name };
    if (img.newName) entry.newName = img.newName;
    if (img.newTag) entry.newTag = img.newTag;
    if (img.digest) entry.digest = img.digest;
    const i = out.findIndex((e) => e.name === img.name);
    if (i >= 0) out[i] = entry;
    else out.push(entry);
  }
  return out;
}

async function mergeComponents(root: string, dir: string, existing: unknown, spec: OverlaySpec): Promise<unknown[]> {
  const out = Array.isArray(existing) ? [...existing] : [];
  for (const c of spec.components ?? []) {
    if (isRemoteReference(c) || c.startsWith("/"))
      throw new ReconcileError(`component path '${c}' must be local and relative`, {
        reason: KustomizationReasons.BuildFailed,
      });
    const abs = resolveInside(root, join(dir, c));
    if (abs === undefined)
      throw new ReconcileError(`component path '${c}' points outside the source`, {
        reason: KustomizationReasons.BuildFailed,
      });
    if (spec.ignoreMissingComponents && !(await stat(abs).catch(() => undefined))) continue;
    out.push(c);
  }
  return out;
}
