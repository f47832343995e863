// Which changes of a live object, seen through a metadata-only watch, can be drift. Server-side apply records who
// owns which field: when anyone else changes a field we applied, the apiserver moves that field out of our Apply
// entry in metadata.managedFields. So a change to our entry that we did not write ourselves is exactly "someone
// changed what we manage". Changes to fields we do not own (a controller's status, an annotation another tool adds)
// are never drift, since the dry-run keeps them too, and do not wake the Kustomization. A write under our own field
// manager name that changes values only (another Kustomization, or another process, applying the object under
// `kustomize-controller`) leaves the field sets as they were but moves the entry's time: that counts too, and the
// self-writes record (self-writes.ts) tells which Kustomization, if any of ours, made it.
import { createHash } from "node:crypto";
import type { KubeObject } from "../kube.js";
import { isRecord } from "../object.js";

export interface FingerprintOptions {
  /** Our field manager: `kustomize-controller`. */
  fieldManager: string;
  /** Prefix of labels and annotations that change what apply does (`kustomize.toolkit.fluxcd.io/`). */
  controlPrefix: string;
  /** Managers whose fields the apply takes back (kubectl, before-first-apply, our own Update entries). */
  cleanupManagers: readonly { name: string; operation: "Apply" | "Update" }[];
}

function entries(obj: KubeObject): Record<string, unknown>[] {
  return (obj.metadata.managedFields ?? []).filter(isRecord);
}

function pick(map: Record<string, string> | undefined, prefix: string): [string, string][] {
  return Object.entries(map ?? {})
    .filter(([k]) => k.startsWith(prefix))
    .sort(([a], [b]) => a.localeCompare(b));
}

/**
 * What of the object matters for drift: our own Apply entries (field sets), the entries of managers the apply cleans
 * up after, the control labels and annotations, and whether deletion started. Objects without managedFields (an
 * apiserver that does not track them) fall back to the resourceVersion, so any change counts.
 */
export function fingerprint(obj: KubeObject, o: FingerprintOptions): string {
  const fields = entries(obj);
  if (fields.length === 0) return `rv:${obj.metadata.resourceVersion ?? ""}`;
  const ours = fields.filter((e) => isOurs(e, o)).map((e) => [e.apiVersion, e.time, e.fieldsV1]);
  const cleanup = fields.filter((e) => isCleanup(e, o)).map((e) => [e.manager, e.operation, e.time, e.fieldsV1]);
  return JSON.stringify({
    ours,
    cleanup,
    labels: pick(obj.metadata.labels, o.controlPrefix),
    annotations: pick(obj.metadata.annotations, o.controlPrefix),
    deleting: obj.metadata.deletionTimestamp ?? null,
  });
}

const isOurs = (e: Record<string, unknown>, o: FingerprintOptions) =>
  e.manager === o.fieldManager && e.operation === "Apply" && !e.subresource;

const isCleanup = (e: Record<string, unknown>, o: FingerprintOptions) =>
  !e.subresource &&
  typeof e.manager === "string" &&
  !(e.manager === o.fieldManager && e.operation === "Apply") &&
  o.cleanupManagers.some((m) => (e.manager as string).startsWith(m.name) && e.operation === m.operation);

/**
 * The object's metadata as the drift watch keeps it: what fingerprint() and the health check read, nothing more.
 * managedFields entries fingerprint() compares keep their field set as a digest (a Deployment's is kilobytes of
 * nested keys); the others only say that they exist (an object with entries that are none of ours is still not the
 * "no managedFields" case). Annotations: only the control ones (a kubectl last-applied-configuration can be as large
 * as the object). Fingerprints of two lean objects differ exactly when those of the full objects do.
 */
export function leanMetadata(obj: KubeObject, o: FingerprintOptions): KubeObject["metadata"] {
  const m = obj.metadata;
  const lean: KubeObject["metadata"] = { name: m.name };
  if (m.namespace !== undefined) lean.namespace = m.namespace;
  if (m.uid !== undefined) lean.uid = m.uid;
  if (m.resourceVersion !== undefined) lean.resourceVersion = m.resourceVersion;
  if (m.generation !== undefined) lean.generation = m.generation;
  if (m.deletionTimestamp !== undefined) lean.deletionTimestamp = m.deletionTimestamp;
  if (m.labels !== undefined) lean.labels = m.labels;
  const annotations = pick(m.annotations, o.controlPrefix);
  if (annotations.length > 0) lean.annotations = Object.fromEntries(annotations);
  if (m.managedFields !== undefined) {
    lean.managedFields = entries(obj).map((e) =>
      isOurs(e, o) || isCleanup(e, o)
        ? { manager: e.manager, operation: e.operation, apiVersion: e.apiVersion, time: e.time, fieldsV1: digest(e) }
        : {},
    );
  }
  return lean;
}

const digest = (e: Record<string, unknown>) =>
  e.fieldsV1 === undefined ? null : createHash("sha256").update(JSON.stringify(e.fieldsV1)).digest("base64");

/** True when the update from old to new may have made the object drift from what we applied. */
export function mayHaveDrifted(oldObj: KubeObject, newObj: KubeObject, o: FingerprintOptions): boolean {
  if (oldObj.metadata.resourceVersion === newObj.metadata.resourceVersion) return false;
  return fingerprint(oldObj, o) !== fingerprint(newObj, o);
}
