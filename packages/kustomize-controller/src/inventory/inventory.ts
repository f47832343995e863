// status.inventory in Flux's format: entries `{id: "<namespace>_<name>_<group>_<kind>", v: "<version>"}` (the
// cli-utils ObjMetadata string, with `:` in names written as `__`), plus the diff that decides what to prune.
import type { ResourceInventory, ResourceRef } from "@capstan/api";
import type { KubeObject } from "../kube.js";
import { groupOf, versionOf } from "../object.js";

/** One status.inventory entry: the API's ResourceRef. */
export type InventoryEntry = ResourceRef;
/** status.inventory: the API's ResourceInventory. */
export type Inventory = ResourceInventory;

export interface ObjMetadata {
  namespace: string;
  name: string;
  group: string;
  kind: string;
}

export function objMetadataOf(obj: KubeObject): ObjMetadata {
  return {
    namespace: obj.metadata.namespace ?? "",
    name: obj.metadata.name,
    group: groupOf(obj.apiVersion),
    kind: obj.kind,
  };
}

export function formatId(m: ObjMetadata): string {
  return `${m.namespace}_${m.name.replaceAll(":", "__")}_${m.group}_${m.kind}`;
}

/** Parses an id back; names may hold `_`, so namespace is the first field and group/kind the last two. */
export function parseId(id: string): ObjMetadata {
  const parts = id.split("_");
  if (parts.length < 4) throw new Error(`invalid inventory id '${id}'`);
  const kind = parts.at(-1)!;
  const group = parts.at(-2)!;
  const namespace = parts[0]!;
  // `__` (a transcoded colon) splits into an empty field: rejoin the middle and transcode back.
  const name = parts.slice(1, -2).join("_").replaceAll("__", ":");
  if (!name || !kind) throw new Error(`invalid inventory id '${id}'`);
  return { namespace, name, group, kind };
}

export function entryOf(obj: KubeObject): InventoryEntry {
  return { id: formatId(objMetadataOf(obj)), v: versionOf(obj.apiVersion) };
}

/** The inventory of applied objects, in apply order, without duplicates. */
export function inventoryOf(objects: readonly KubeObject[]): Inventory {
  const seen = new Set<string>();
  const entries: InventoryEntry[] = [];
  for (const obj of objects) {
    const e = entryOf(obj);
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    entries.push(e);
  }
  return { entries };
}

/** Entries of previous that current no longer holds (by id: a version change is not a removal). */
export function staleEntries(previous: Inventory | undefined, current: Inventory): InventoryEntry[] {
  const ids = new Set(current.entries.map((e) => e.id));
  return (previous?.entries ?? []).filter((e) => !ids.has(e.id));
}

/** A reference the client can get/delete. */
export function refOfEntry(e: InventoryEntry): { apiVersion: string; kind: string; name: string; namespace?: string } {
  const m = parseId(e.id);
  const ref: { apiVersion: string; kind: string; name: string; namespace?: string } = {
    apiVersion: m.group ? `${m.group}/${e.v}` : e.v,
    kind: m.kind,
    name: m.name,
  };
  if (m.namespace) ref.namespace = m.namespace;
  return ref;
}
