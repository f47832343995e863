// The informer's cache: objects by key, indexed by namespace, frozen so that no handler or reconciler can change
// what other readers see (clone with structuredClone before changing one).
import { type Cache, type KubeObject, type ObjectKey, objectKey } from "../contracts.js";

export class Store<T extends KubeObject> implements Cache<T> {
  private readonly byKey = new Map<ObjectKey, T>();
  private readonly byNamespace = new Map<string, Map<ObjectKey, T>>();

  get(key: ObjectKey): T | undefined {
    return this.byKey.get(key);
  }

  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.byKey.values()];
    return [...(this.byNamespace.get(namespace)?.values() ?? [])];
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Stores a (frozen) object and returns the one it replaced. */
  put(obj: T): T | undefined {
    const key = objectKey(obj);
    const old = this.byKey.get(key);
    deepFreeze(obj);
    this.byKey.set(key, obj);
    const ns = obj.metadata.namespace ?? "";
    let index = this.byNamespace.get(ns);
    if (!index) {
      index = new Map();
      this.byNamespace.set(ns, index);
    }
    index.set(key, obj);
    return old;
  }

  remove(key: ObjectKey): T | undefined {
    const old = this.byKey.get(key);
    if (!old) return undefined;
    this.byKey.delete(key);
    const ns = old.metadata.namespace ?? "";
    const index = this.byNamespace.get(ns);
    index?.delete(key);
    if (index?.size === 0) this.byNamespace.delete(ns);
    return old;
  }

  entries(): Map<ObjectKey, T> {
    return this.byKey;
  }
}

export function deepFreeze<V>(value: V): V {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
