// Refuses kustomizations that would reach outside the artifact: remote resources/bases/components and paths that
// climb out of the extracted tree, lexically or through symlinks (every reference is judged by its real path, as the
// kernel will resolve it when kustomize opens it). kustomize runs with LoadRestrictionsNone (as Flux), so this check
// is the fence. Every key through which kustomize reads a file is listed here.

import { readFile, stat } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { KustomizationReasons } from "@capstan/api";
import { ReconcileError } from "@capstan/runtime";
import { parse, parseAllDocuments } from "yaml";
import { isRecord } from "../object.js";
import { kustomizationFileNames } from "./overlay.js";
import { isRemoteReference, resolveRealInside } from "./paths.js";

const pathLists = [
  "resources",
  "bases",
  "components",
  "crds",
  "patchesStrategicMerge",
  "configurations",
  "transformers",
  "generators",
  "validators",
];

function stringsOf(v: unknown): string[] {
  if (typeof v === "string") return v.includes("\n") ? [] : [v];
  return Array.isArray(v) ? v.flatMap(stringsOf) : [];
}

/** Files named by configMapGenerator/secretGenerator (`files` entries may be `key=path`). */
function generatorPaths(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list
    .filter(isRecord)
    .flatMap((g) => [
      ...stringsOf(g.files).map((f) => f.replace(/^[^=]*=/, "")),
      ...stringsOf(g.envs),
      ...stringsOf(g.env),
    ]);
}

function referencedPaths(kus: Record<string, unknown>): string[] {
  const out = pathLists.flatMap((key) => stringsOf(kus[key]));
  // Lists of objects whose `path` names a file: patches, JSON 6902 patches, replacements sources.
  for (const key of ["patches", "patchesJson6902", "replacements"]) {
    const list = kus[key];
    if (Array.isArray(list)) out.push(...list.filter(isRecord).flatMap((p) => stringsOf(p.path)));
  }
  // openapi: { path: schema.json } (a `version` needs no file).
  if (isRecord(kus.openapi)) out.push(...stringsOf(kus.openapi.path));
  out.push(...generatorPaths(kus.configMapGenerator), ...generatorPaths(kus.secretGenerator));
  if (Array.isArray(kus.helmCharts) && kus.helmCharts.length > 0) out.push("helmCharts://");
  return out;
}

/** Keys of builtin plugin configs (PatchTransformer, ConfigMapGenerator, ReplacementTransformer…) that name files. */
const pluginFileKeys = new Set(["path", "files", "envs", "env"]);
const pluginKeys = ["transformers", "generators", "validators"];
const maxPluginConfigBytes = 1024 * 1024;

/** File references anywhere in a plugin config document. */
function pluginFileRefs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) pluginFileRefs(v, out);
  else if (isRecord(value)) {
    for (const [key, v] of Object.entries(value)) {
      if (pluginFileKeys.has(key))
        out.push(...stringsOf(v).map((f) => (key === "files" ? f.replace(/^[^=]*=/, "") : f)));
      else pluginFileRefs(v, out);
    }
  }
  return out;
}

function docsOf(text: string): unknown[] {
  return parseAllDocuments(text).map((d) => d.toJS({ maxAliasCount: 100 }) as unknown);
}

/**
 * Plugin configs, inline (a YAML string or object in the list) or in a file the list names, read files themselves
 * through their `path`/`files`/`envs` keys: those references are fenced like any other.
 */
async function pluginConfigRefs(kus: Record<string, unknown>, dir: string, root: string): Promise<string[]> {
  const out: string[] = [];
  for (const key of pluginKeys) {
    const list = kus[key];
    if (Array.isArray(list)) for (const item of list) out.push(...(await pluginItemRefs(key, item, dir, root)));
  }
  return out;
}

async function pluginItemRefs(key: string, item: unknown, dir: string, root: string): Promise<string[]> {
  if (isRecord(item)) return pluginFileRefs(item);
  if (typeof item !== "string") return [];
  if (item.includes("\n")) return docsOf(item).flatMap((d) => pluginFileRefs(d));
  if (isRemoteReference(item) || item.startsWith("/")) return []; // refused as a reference of its own
  const abs = await resolveRealInside(root, join(dir, item));
  const st = abs === undefined ? undefined : await stat(abs).catch(() => undefined);
  if (abs === undefined || !st?.isFile()) return []; // refused, or walked as a directory
  if (st.size > maxPluginConfigBytes)
    throw new ReconcileError(`${key} config '${item}' is larger than 1 MiB`, {
      reason: KustomizationReasons.BuildFailed,
    });
  return docsOf(await readFile(abs, "utf8")).flatMap((d) => pluginFileRefs(d));
}

async function kustomizationFileIn(dir: string): Promise<string | undefined> {
  for (const name of kustomizationFileNames) {
    const file = join(dir, name);
    if ((await stat(file).catch(() => undefined))?.isFile()) return file;
  }
  return undefined;
}

/**
 * Walks the kustomizations reachable from `dir` (resources, bases and components that are directories) and throws
 * ReconcileError (BuildFailed) naming the file and the reference at fault. `root` and `dir` are real paths (no symlink in them).
 */
export async function assertLocalOnly(root: string, dir: string): Promise<void> {
  const seen = new Set<string>();
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop() as string;
    if (seen.has(current)) continue;
    seen.add(current);
    const file = await kustomizationFileIn(current);
    if (file) pending.push(...(await checkKustomization(root, file)));
  }
}

/** Checks one kustomization file's references; returns the directories it reaches (real paths) to walk next. */
async function checkKustomization(root: string, file: string): Promise<string[]> {
  const rel = relative(root, file);
  let kus: unknown;
  try {
    kus = parse(await readFile(file, "utf8"));
  } catch (cause) {
    throw new ReconcileError(`${rel}: invalid YAML: ${(cause as Error).message}`, {
      reason: KustomizationReasons.BuildFailed,
      cause,
    });
  }
  if (!isRecord(kus)) return [];
  let refs: string[];
  try {
    refs = [...referencedPaths(kus), ...(await pluginConfigRefs(kus, dirname(file), root))];
  } catch (cause) {
    if (cause instanceof ReconcileError)
      throw new ReconcileError(`${rel}: ${cause.message}`, { reason: KustomizationReasons.BuildFailed, cause });
    throw new ReconcileError(`${rel}: invalid plugin config: ${(cause as Error).message}`, {
      reason: KustomizationReasons.BuildFailed,
      cause,
    });
  }
  const dirs: string[] = [];
  for (const ref of refs) {
    if (ref === "helmCharts://")
      throw new ReconcileError(`${rel}: helmCharts are not supported (remote fetch)`, {
        reason: KustomizationReasons.BuildFailed,
      });
    if (isRemoteReference(ref))
      throw new ReconcileError(`${rel}: remote reference '${ref}' is not allowed`, {
        reason: KustomizationReasons.BuildFailed,
      });
    if (ref.startsWith("/"))
      throw new ReconcileError(`${rel}: path '${ref}' points outside the source (absolute)`, {
        reason: KustomizationReasons.BuildFailed,
      });
    // The real path: a directory reached through a symlink is where kustomize continues from, as it does.
    const abs = await resolveRealInside(root, join(dirname(file), ref));
    if (abs === undefined)
      throw new ReconcileError(`${rel}: path '${ref}' points outside the source`, {
        reason: KustomizationReasons.BuildFailed,
      });
    if ((await stat(abs).catch(() => undefined))?.isDirectory()) dirs.push(abs);
  }
  return dirs;
}
