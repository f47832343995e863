// What changed between the cache and a fresh list: the events a relist must deliver so that handlers see every
// change exactly once, even when watch events were lost (410 Gone, a restarted apiserver).
import { type KubeObject, type ObjectKey, objectKey } from "../contracts.js";

export interface SnapshotDiff<T> {
  added: T[];
  updated: { old: T; new: T }[];
  deleted: T[];
}

/**
 * Compares by resourceVersion, which changes on every write. With `resync`, unchanged objects are reported as
 * updated too (old === new), as client-go's periodic resync does, so every object is reconciled again.
 */
export function diffSnapshot<T extends KubeObject>(
  current: ReadonlyMap<ObjectKey, T>,
  fresh: readonly T[],
  resync = false,
): SnapshotDiff<T> {
  const diff: SnapshotDiff<T> = { added: [], updated: [], deleted: [] };
  const seen = new Set<ObjectKey>();
  for (const obj of fresh) {
    const key = objectKey(obj);
    seen.add(key);
    const old = current.get(key);
    if (!old) diff.added.push(obj);
    else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion || resync)
      diff.updated.push({ old, new: obj });
  }
  for (const [key, old] of current) if (!seen.has(key)) diff.deleted.push(old);
  return diff;
}
