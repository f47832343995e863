// The writes this process made to inventory objects, so that the watch does not mistake our own apply, cleanup or
// prune for drift. Keyed by inventory id; an entry lives long enough for the watch event of that write to arrive
// (the debounce looks it up after the write's response is in), then ages out.
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
  // Several writes can land on one object in a reconcile (cleanup patch, then apply): remember each version.
  private readonly versions: LRUCache<string, Set<string>>;
  private readonly deleted: LRUCache<string, true>;

  constructor(options: SelfWritesOptions = {}) {
    const ttl = options.ttlMs ?? 300_000;
    const max = options.max ?? 100_000;
    this.versions = new LRUCache({ max, ttl });
    this.deleted = new LRUCache({ max, ttl });
  }

  /** An object as the apiserver returned it after our write. */
  wrote(obj: KubeObject): void {
    const rv = obj.metadata.resourceVersion;
    if (!rv) return;
    const id = entryOf(obj).id;
    const set = this.versions.get(id) ?? new Set<string>();
    set.add(rv);
    this.versions.set(id, set);
    this.deleted.delete(id);
  }

  /** An object we deleted (prune, finalizer, force-recreate). */
  deletedByUs(obj: KubeObject): void {
    this.deleted.set(entryOf(obj).id, true);
  }

  /** True when the watch event (type, object) is the echo of one of our own writes. */
  isOwn(type: "MODIFIED" | "DELETED", obj: KubeObject): boolean {
    const id = entryOf(obj).id;
    if (type === "DELETED") return this.deleted.has(id);
    const rv = obj.metadata.resourceVersion;
    return !!rv && (this.versions.get(id)?.has(rv) ?? false);
  }
}
