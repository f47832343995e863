// Which Kustomizations hold which objects, from their status.inventory: maps a watch event on an object back to its
// owners (even after someone stripped the owner labels), and tells the watcher which kinds need watching at all.
import { type InventoryEntry, parseId } from "../inventory/inventory.js";
import { type GroupKind, groupKindOf } from "../object.js";

export interface KindVersion {
  groupKind: GroupKind;
  /** apiVersion to resolve the resource with: the version the inventory recorded. */
  apiVersion: string;
  kind: string;
}

export class InventoryIndex {
  private readonly byOwner = new Map<string, { ids: Set<string>; kinds: Map<GroupKind, KindVersion> }>();
  private readonly owners = new Map<string, Set<string>>();

  /** Replaces what `owner` (namespace/name of a Kustomization) holds; an empty list removes it. */
  set(owner: string, entries: readonly InventoryEntry[]): void {
    this.remove(owner);
    if (entries.length === 0) return;
    const ids = new Set<string>();
    const kinds = new Map<GroupKind, KindVersion>();
    for (const e of entries) {
      let m: ReturnType<typeof parseId>;
      try {
        m = parseId(e.id);
      } catch {
        continue; // a hand-edited status: nothing to watch for that entry
      }
      ids.add(e.id);
      const gk = groupKindOf(m.group, m.kind);
      if (!kinds.has(gk))
        kinds.set(gk, { groupKind: gk, apiVersion: m.group ? `${m.group}/${e.v}` : e.v, kind: m.kind });
      let set = this.owners.get(e.id);
      if (!set) {
        set = new Set();
        this.owners.set(e.id, set);
      }
      set.add(owner);
    }
    this.byOwner.set(owner, { ids, kinds });
  }

  remove(owner: string): void {
    const held = this.byOwner.get(owner);
    if (!held) return;
    for (const id of held.ids) {
      const set = this.owners.get(id);
      set?.delete(owner);
      if (set?.size === 0) this.owners.delete(id);
    }
    this.byOwner.delete(owner);
  }

  idsOf(owner: string): string[] {
    return [...(this.byOwner.get(owner)?.ids ?? [])];
  }

  ownersOf(id: string): string[] {
    return [...(this.owners.get(id) ?? [])];
  }

  holds(owner: string, id: string): boolean {
    return this.byOwner.get(owner)?.ids.has(id) ?? false;
  }

  /** Every kind some inventory holds, with a version to resolve it by. */
  kinds(): Map<GroupKind, KindVersion> {
    const all = new Map<GroupKind, KindVersion>();
    for (const { kinds } of this.byOwner.values()) for (const [gk, kv] of kinds) if (!all.has(gk)) all.set(gk, kv);
    return all;
  }
}
