// Which Kustomizations follow which source: an index by spec.sourceRef, kept by the Kustomization informer's events
// (Flux indexes its cache the same way), so a source event finds its Kustomizations without scanning all of them.
import type { InformerHandlers } from "@capstan/runtime";
import { sourceKey } from "./source.js";
import type { KustomizationObject } from "./types.js";

const keyOf = (k: KustomizationObject) => `${k.metadata.namespace ?? ""}/${k.metadata.name}`;

/** `<kind>/<namespace>/<name>` of the source a Kustomization names. */
export function sourceIndexKey(k: KustomizationObject): string {
  return `${k.spec.sourceRef.kind}/${sourceKey(k)}`;
}

export class SourceIndex {
  private readonly bySource = new Map<string, Set<string>>();
  private readonly sourceOf = new Map<string, string>();

  /** The informer handlers that keep the index (add them to the Kustomization informer). */
  readonly handlers: InformerHandlers<KustomizationObject> = {
    onAdd: (k) => this.put(k),
    onUpdate: (_old, k) => this.put(k),
    onDelete: (k) => this.remove(keyOf(k)),
  };

  /** Keys (namespace/name) of the Kustomizations whose sourceRef names this source. */
  dependents(kind: string, namespace: string, name: string): string[] {
    return [...(this.bySource.get(`${kind}/${namespace}/${name}`) ?? [])];
  }

  put(k: KustomizationObject): void {
    const key = keyOf(k);
    const source = sourceIndexKey(k);
    if (this.sourceOf.get(key) === source) return;
    this.remove(key);
    this.sourceOf.set(key, source);
    let set = this.bySource.get(source);
    if (!set) {
      set = new Set();
      this.bySource.set(source, set);
    }
    set.add(key);
  }

  remove(key: string): void {
    const source = this.sourceOf.get(key);
    if (source === undefined) return;
    this.sourceOf.delete(key);
    const set = this.bySource.get(source);
    set?.delete(key);
    if (set?.size === 0) this.bySource.delete(source);
  }

  get size(): number {
    return this.sourceOf.size;
  }
}
