// Before applying, Flux hands the fields kubectl (and client-side apply) took to the controller's manager, so the
// next server-side apply removes or reverts them; it also drops kubectl's last-applied annotation. Done with a merge
// patch that rewrites metadata.managedFields (and nulls the keys), the same effect as ssa's JSON patch.
import type { KubeObject } from "../kube.js";
import { isRecord } from "../object.js";

export interface FieldManagerMatch {
  /** Prefix of the manager name, as Flux matches (`kubectl` covers `kubectl-edit`, `kubectl-client-side-apply`). */
  name: string;
  operation: "Apply" | "Update";
}

export interface CleanupOptions {
  annotations: string[];
  labels: string[];
  fieldManagers: FieldManagerMatch[];
}

export function defaultCleanup(controllerManager: string): CleanupOptions {
  return {
    annotations: [
      "kubectl.kubernetes.io/last-applied-configuration",
      "kustomize.toolkit.fluxcd.io/checksum",
      "fluxcd.io/sync-checksum",
    ],
    labels: ["fluxcd.io/sync-gc-mark"],
    fieldManagers: [
      { name: "kubectl", operation: "Apply" },
      { name: "kubectl", operation: "Update" },
      { name: "before-first-apply", operation: "Update" },
      { name: controllerManager, operation: "Update" },
    ],
  };
}

/** The merge patch that cleans the live object, or undefined when it is already clean. */
export function cleanupPatch(
  existing: KubeObject,
  manager: string,
  opts: CleanupOptions,
): Record<string, unknown> | undefined {
  const metadata: Record<string, unknown> = {};
  const drop = (keys: string[], present: Record<string, string> | undefined) => {
    const hit = keys.filter((k) => present && Object.hasOwn(present, k));
    return hit.length > 0 ? Object.fromEntries(hit.map((k) => [k, null])) : undefined;
  };
  const annotations = drop(opts.annotations, existing.metadata.annotations);
  if (annotations) metadata.annotations = annotations;
  const labels = drop(opts.labels, existing.metadata.labels);
  if (labels) metadata.labels = labels;

  const managedFields = handOver(existing.metadata.managedFields ?? [], manager, opts.fieldManagers);
  if (managedFields) metadata.managedFields = managedFields;
  return Object.keys(metadata).length > 0 ? { metadata } : undefined;
}

function isOurs(e: Record<string, unknown>, manager: string): boolean {
  return e.manager === manager && e.operation === "Apply" && !e.subresource;
}

function matches(e: Record<string, unknown>, manager: string, managers: FieldManagerMatch[]): boolean {
  return (
    !isOurs(e, manager) &&
    !e.subresource &&
    typeof e.manager === "string" &&
    managers.some((m) => (e.manager as string).startsWith(m.name) && e.operation === m.operation)
  );
}

/** FieldsV1 sets are trees of `f:`/`k:`/`v:`/`i:` keys: their union is a deep merge. */
function mergeFields(a: unknown, b: unknown): unknown {
  if (!isRecord(a) || !isRecord(b)) return a ?? b;
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in out ? mergeFields(out[k], v) : v;
  return out;
}

/**
 * Rewrites the entries of the matched managers as our Apply entry. The apiserver keeps one entry per manager and
 * operation, so fields are merged into our existing entry of the same apiVersion rather than duplicating it.
 */
function handOver(entries: unknown[], manager: string, managers: FieldManagerMatch[]): unknown[] | undefined {
  const records = entries.filter(isRecord).map((e) => ({ ...e }));
  if (!records.some((e) => matches(e, manager, managers))) return undefined;
  const out: Record<string, unknown>[] = [];
  for (const e of records) {
    if (!matches(e, manager, managers)) {
      out.push(e);
      continue;
    }
    const ours =
      out.find((o) => isOurs(o, manager) && o.apiVersion === e.apiVersion) ??
      records.find((o) => isOurs(o, manager) && o.apiVersion === e.apiVersion);
    if (ours) {
      ours.fieldsV1 = mergeFields(ours.fieldsV1, e.fieldsV1);
      if (!out.includes(ours)) out.push(ours);
    } else out.push({ ...e, manager, operation: "Apply" });
  }
  // Our own entry may have been pushed twice (once merged, once in order): keep the first.
  return out.filter((e, i) => out.indexOf(e) === i);
}
