// Which changes of a live object, seen through a metadata-only watch, can be drift. Server-side apply records who
// owns which field: when anyone else changes a field we applied, the apiserver moves that field out of our Apply
// entry in metadata.managedFields. So a change to our entry that we did not write ourselves is exactly "someone
// changed what we manage". Changes to fields we do not own (a controller's status, an annotation another tool adds)
// are never drift, since the dry-run keeps them too, and do not wake the Kustomization. A write under our own field
// manager name that changes values only (another Kustomization, or another process, applying the object under
// `kustomize-controller`) leaves the field sets as they were but moves the entry's time: that counts too, and the
// self-writes record (self-writes.ts) tells which Kustomization, if any of ours, made it.
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
  const ours = fields
    .filter((e) => e.manager === o.fieldManager && e.operation === "Apply" && !e.subresource)
    .map((e) => [e.apiVersion, e.time, e.fieldsV1]);
  const cleanup = fields
    .filter(
      (e) =>
        !e.subresource &&
        typeof e.manager === "string" &&
        !(e.manager === o.fieldManager && e.operation === "Apply") &&
        o.cleanupManagers.some((m) => (e.manager as string).startsWith(m.name) && e.operation === m.operation),
    )
    .map((e) => [e.manager, e.operation, e.time, e.fieldsV1]);
  return JSON.stringify({
    ours,
    cleanup,
    labels: pick(obj.metadata.labels, o.controlPrefix),
    annotations: pick(obj.metadata.annotations, o.controlPrefix),
    deleting: obj.metadata.deletionTimestamp ?? null,
  });
}

/** True when the update from old to new may have made the object drift from what we applied. */
export function mayHaveDrifted(oldObj: KubeObject, newObj: KubeObject, o: FingerprintOptions): boolean {
  if (oldObj.metadata.resourceVersion === newObj.metadata.resourceVersion) return false;
  return fingerprint(oldObj, o) !== fingerprint(newObj, o);
}
