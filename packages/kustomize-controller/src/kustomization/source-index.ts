// Which Kustomizations follow which source, and which depend on which Kustomization: indexes by spec.sourceRef and
// spec.dependsOn, kept by the Kustomization informer's events (Flux indexes its cache the same way), so a source's or
// a dependency's event finds its Kustomizations without scanning all of them (at 10,000 Kustomizations a scan per
// event made the apply quadratic).
import type { InformerHandlers } from "@capstan/runtime";
import { sourceKey } from "./source.js";
import type { KustomizationObject } from "./types.js";

const keyOf = (k: KustomizationObject) => `${k.metadata.namespace ?? ""}/${k.metadata.name}`;

/** `<kind>/<namespace>/<name>` of the source a Kustomization names. */
export function sourceIndexKey(k: KustomizationObject): string {
  return `${k.spec.sourceRef.kind}/${sourceKey(k)}`;
}

/** `<namespace>/<name>` of each Kustomization a Kustomization depends on (its own namespace when none is given). */
export function dependsOnKeys(k: KustomizationObject): string[] {
  return (k.spec.dependsOn ?? []).map((d) => `${d.namespace || k.metadata.namespace || ""}/${d.name}`);
}

/** Kustomizations (namespace/name) by the references `refsOf` gives for each. */
class RefIndex {
  private readonly byRef = new Map<string, Set<string>>();
  private readonly refs = new Map<string, readonly string[]>();

  constructor(private readonly refsOf: (k: KustomizationObject) => string[]) {}

  /** The informer handlers that keep the index (add them to the Kustomization informer). */
  readonly handlers: InformerHandlers<KustomizationObject> = {
    onAdd: (k) => this.put(k),
    onUpdate: (_old, k) => this.put(k),
    onDelete: (k) => this.remove(keyOf(k)),
  };

  protected referrers(ref: string): string[] {
    return [...(this.byRef.get(ref) ?? [])];
  }

  put(k: KustomizationObject): void {
    const key = keyOf(k);
    const refs = [...new Set(this.refsOf(k))];
    const before = this.refs.get(key);
    if (before && before.length === refs.length && before.every((r, i) => r === refs[i])) return;
    this.remove(key);
    if (refs.length === 0) return;
    this.refs.set(key, refs);
    for (const ref of refs) {
      let set = this.byRef.get(ref);
      if (!set) {
        set = new Set();
        this.byRef.set(ref, set);
      }
      set.add(key);
    }
  }

  remove(key: string): void {
    const refs = this.refs.get(key);
    if (refs === undefined) return;
    this.refs.delete(key);
    for (const ref of refs) {
      const set = this.byRef.get(ref);
      set?.delete(key);
      if (set?.size === 0) this.byRef.delete(ref);
    }
  }

  /** Kustomizations indexed (those with at least one reference). */
  get size(): number {
    return this.refs.size;
  }
}

export class SourceIndex extends RefIndex {
  constructor() {
    super((k) => [sourceIndexKey(k)]);
  }

  /** Keys (namespace/name) of the Kustomizations whose sourceRef names this source. */
  dependents(kind: string, namespace: string, name: string): string[] {
    return this.referrers(`${kind}/${namespace}/${name}`);
  }
}

export class DependsOnIndex extends RefIndex {
  constructor() {
    super(dependsOnKeys);
  }

  /** Keys (namespace/name) of the Kustomizations whose dependsOn names this Kustomization. */
  dependents(namespace: string, name: string): string[] {
    return this.referrers(`${namespace}/${name}`);
  }
}
