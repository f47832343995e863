// Refuses kustomizations that would reach outside the artifact: remote resources/bases/components and paths that
// climb out of the extracted tree. kustomize runs with LoadRestrictionsNone (as Flux), so this check is the fence.
import { readFile, stat } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { parse } from "yaml";
import { BuildError } from "../errors.js";
import { isRecord } from "../object.js";
import { kustomizationFileNames } from "./overlay.js";
import { isRemoteReference, resolveInside } from "./paths.js";

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
  for (const key of ["patches", "patchesJson6902"]) {
    const list = kus[key];
    if (Array.isArray(list)) out.push(...list.filter(isRecord).flatMap((p) => stringsOf(p.path)));
  }
  out.push(...generatorPaths(kus.configMapGenerator), ...generatorPaths(kus.secretGenerator));
  if (Array.isArray(kus.helmCharts) && kus.helmCharts.length > 0) out.push("helmCharts://");
  return out;
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
 * BuildError naming the file and the reference at fault.
 */
export async function assertLocalOnly(root: string, dir: string): Promise<void> {
  const seen = new Set<string>();
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    if (seen.has(current)) continue;
    seen.add(current);
    const file = await kustomizationFileIn(current);
    if (!file) continue;
    const rel = relative(root, file);
    let kus: unknown;
    try {
      kus = parse(await readFile(file, "utf8"));
    } catch (cause) {
      throw new BuildError(`${rel}: invalid YAML: ${(cause as Error).message}`, { cause });
    }
    if (!isRecord(kus)) continue;
    for (const ref of referencedPaths(kus)) {
      if (ref === "helmCharts://") throw new BuildError(`${rel}: helmCharts are not supported (remote fetch)`);
      if (isRemoteReference(ref)) throw new BuildError(`${rel}: remote reference '${ref}' is not allowed`);
      const abs = resolveInside(root, join(dirname(file), ref));
      if (abs === undefined) throw new BuildError(`${rel}: path '${ref}' points outside the source`);
      if ((await stat(abs).catch(() => undefined))?.isDirectory()) pending.push(abs);
    }
  }
}
