// The writes this process made to inventory objects, and for which Kustomization, so that the watch does not
// mistake a Kustomization's own apply, cleanup or prune for drift, while the same write seen by another
// Kustomization holding the object (both apply it, under the one field manager name) is a change that Kustomization
// did not make. Keyed by inventory id; an entry lives long enough for the watch event of that write to arrive (the
// debounce looks it up after the write's response is in), then ages out.
import { LRUCache } from "lru-cache";
import { entryOf } from "../inventory/inventory.js";
import type { KubeObject } from "../kube.js";

export interface SelfWritesOptions {
  /** How long a write is remembered. Default 5 minutes: far longer than any watch delay. */
  ttlMs?: number;
  /** How many objects are remembered at most. */
  max?: number;
}

export class SelfWrites {
  // Several writes can land on one object in a reconcile (cleanup patch, then apply): remember each version, with
  // the Kustomization (namespace/name) whose reconcile wrote it.
  private readonly versions: LRUCache<string, Map<string, string>>;
  private readonly deleted: LRUCache<string, string>;

  constructor(options: SelfWritesOptions = {}) {
    const ttl = options.ttlMs ?? 300_000;
    const max = options.max ?? 100_000;
    // Bounded by count through maxSize (each entry counts 1), not `max`: lru-cache preallocates its arrays for `max`
    // entries up front, about 4 MiB per cache at 100,000 whether one object is remembered or none (found in a heap
    // snapshot of the N = 1,000 bench, bench/peer/README.md); with maxSize they grow with use.
    const bound = { maxSize: max, sizeCalculation: () => 1, ttl };
    this.versions = new LRUCache(bound);
    this.deleted = new LRUCache(bound);
  }

  /** An object as the apiserver returned it after a write by the reconcile of Kustomization `by`. */
  wrote(obj: KubeObject, by: string): void {
    const rv = obj.metadata.resourceVersion;
    if (!rv) return;
    const id = entryOf(obj).id;
    const map = this.versions.get(id) ?? new Map<string, string>();
    map.set(rv, by);
    this.versions.set(id, map);
    this.deleted.delete(id);
  }

  /** An object the reconcile of Kustomization `by` deleted (prune, finalizer, force-recreate). */
  deletedByUs(obj: KubeObject, by: string): void {
    this.deleted.set(entryOf(obj).id, by);
  }

  /** Which Kustomization of this process made the change a watch event (type, object) tells of; undefined: none. */
  writerOf(type: "MODIFIED" | "DELETED", obj: KubeObject): string | undefined {
    const id = entryOf(obj).id;
    if (type === "DELETED") return this.deleted.get(id);
    const rv = obj.metadata.resourceVersion;
    return rv ? this.versions.get(id)?.get(rv) : undefined;
  }

  /** True when the watch event is the echo of a write by Kustomization `owner` itself. */
  isOwn(type: "MODIFIED" | "DELETED", obj: KubeObject, owner: string): boolean {
    return this.writerOf(type, obj) === owner;
  }
}
