// The comparison behind drift detection, as Flux's jsondiff does it: an object has drifted when the server-side
// dry-run apply of the release's manifest object differs from the live object in its labels, annotations or anything
// outside metadata and status, once the ignored JSON pointers are taken out of both. Pure functions: the summary lines
// Flux writes into its DriftDetected Event, and the merge patch that brings a live object back to the dry-run result
// (leaving ignored paths as they are live).
import { isDeepStrictEqual } from "node:util";
import type { KubeObject } from "@capstan/runtime";

export type DiffType = "create" | "update" | "exclude";

export interface JsonOp {
  op: "add" | "replace" | "remove";
  path: string;
}

/** One drifted object of a release. */
export interface Drift {
  type: DiffType;
  /** The manifest object (with Helm's metadata and namespace set). */
  desired: KubeObject;
  /** What the apiserver would make of the desired object (update only). */
  dryRun?: KubeObject;
  /** The object in the cluster (update and exclude). */
  live?: KubeObject;
  /** JSON pointers left out of the comparison. */
  ignored: string[];
  /** The differences, live → desired (update only). */
  ops: JsonOp[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function unescapeToken(token: string): string {
  return token.replaceAll("~1", "/").replaceAll("~0", "~");
}

function escapeToken(token: string): string {
  return token.replaceAll("~", "~0").replaceAll("/", "~1");
}

function tokens(pointer: string): string[] {
  return pointer.slice(1).split("/").map(unescapeToken);
}

/** The value at an RFC 6901 pointer; `found` false when a step is missing. */
export function getPointer(doc: unknown, pointer: string): { found: boolean; value?: unknown } {
  if (pointer === "") return { found: true, value: doc };
  let node: unknown = doc;
  for (const token of tokens(pointer)) {
    if (Array.isArray(node)) {
      const i = Number(token);
      if (!Number.isInteger(i) || i < 0 || i >= node.length) return { found: false };
      node = node[i];
    } else if (isRecord(node) && Object.hasOwn(node, token)) node = node[token];
    else return { found: false };
  }
  return { found: true, value: node };
}

/** Removes the value at an RFC 6901 pointer, if present. */
export function removePointer(doc: unknown, pointer: string): void {
  if (!pointer.startsWith("/")) return;
  const ts = tokens(pointer);
  const parent = getPointer(doc, `/${ts.slice(0, -1).map(escapeToken).join("/")}`.replace(/^\/$/, ""));
  if (!parent.found) return;
  const last = ts.at(-1) ?? "";
  const node = parent.value;
  if (Array.isArray(node)) {
    const i = Number(last);
    if (Number.isInteger(i) && i >= 0 && i < node.length) node.splice(i, 1);
  } else if (isRecord(node)) delete node[last];
}

/** Sets the value at a pointer whose parent exists; false when it does not. */
export function setPointer(doc: unknown, pointer: string, value: unknown): boolean {
  if (!pointer.startsWith("/")) return false;
  const ts = tokens(pointer);
  const parent = getPointer(doc, `/${ts.slice(0, -1).map(escapeToken).join("/")}`.replace(/^\/$/, ""));
  if (!parent.found) return false;
  const last = ts.at(-1) ?? "";
  const node = parent.value;
  if (Array.isArray(node)) {
    const i = Number(last);
    if (!Number.isInteger(i) || i < 0 || i > node.length) return false;
    node[i] = value;
    return true;
  }
  if (isRecord(node)) {
    node[last] = value;
    return true;
  }
  return false;
}

/** The part of an object drift is judged on: everything but status, and of metadata only labels and annotations. */
export function comparable(obj: KubeObject, ignored: readonly string[]): Record<string, unknown> {
  const c = structuredClone(obj) as Record<string, unknown>;
  for (const p of ignored) removePointer(c, p);
  const meta = isRecord(c.metadata) ? c.metadata : {};
  const out: Record<string, unknown> = { ...c, metadata: {} };
  delete out.status;
  const kept: Record<string, unknown> = {};
  if (isRecord(meta.labels) && Object.keys(meta.labels).length) kept.labels = meta.labels;
  if (isRecord(meta.annotations) && Object.keys(meta.annotations).length) kept.annotations = meta.annotations;
  out.metadata = kept;
  return out;
}

/** JSON Patch operations (RFC 6902, paths only) that turn `from` into `to`; arrays compared index by index. */
export function jsonOps(from: unknown, to: unknown, path = ""): JsonOp[] {
  if (isDeepStrictEqual(from, to)) return [];
  if (isRecord(from) && isRecord(to)) {
    const ops: JsonOp[] = [];
    for (const key of Object.keys(from)) {
      const p = `${path}/${escapeToken(key)}`;
      if (!Object.hasOwn(to, key)) ops.push({ op: "remove", path: p });
      else ops.push(...jsonOps(from[key], to[key], p));
    }
    for (const key of Object.keys(to)) {
      if (!Object.hasOwn(from, key)) ops.push({ op: "add", path: `${path}/${escapeToken(key)}` });
    }
    return ops;
  }
  if (Array.isArray(from) && Array.isArray(to)) {
    const ops: JsonOp[] = [];
    const common = Math.min(from.length, to.length);
    for (let i = 0; i < common; i++) ops.push(...jsonOps(from[i], to[i], `${path}/${i}`));
    for (let i = common; i < to.length; i++) ops.push({ op: "add", path: `${path}/${i}` });
    for (let i = from.length - 1; i >= common; i--) ops.push({ op: "remove", path: `${path}/${i}` });
    return ops;
  }
  return [{ op: "replace", path }];
}

/** The differences between a live object and the dry-run of its desired state, ignored pointers left out. */
export function compare(live: KubeObject, dryRun: KubeObject, ignored: readonly string[]): JsonOp[] {
  return jsonOps(comparable(live, ignored), comparable(dryRun, ignored));
}

/** `Kind/namespace/name`, as Flux names an object in drift messages. */
export function resourceName(obj: KubeObject): string {
  const ns = obj.metadata.namespace;
  return ns ? `${obj.kind}/${ns}/${obj.metadata.name}` : `${obj.kind}/${obj.metadata.name}`;
}

/** Flux's SummarizeDiffSet: one line per drifted object. */
export function summarize(drifts: readonly Drift[]): string {
  return drifts
    .map((d) => {
      const name = `${d.desired.kind}/${d.desired.metadata.namespace ?? ""}/${d.desired.metadata.name}`;
      if (d.type === "create") return `${name} removed`;
      if (d.type === "exclude") return `${name} excluded`;
      const count = (op: JsonOp["op"]) => d.ops.filter((o) => o.op === op).length;
      return `${name} changed (${count("add")} additions, ${count("replace")} changes, ${count("remove")} removals)`;
    })
    .join("\n");
}

/** Flux's SummarizeDiffSetBrief. */
export function summarizeBrief(drifts: readonly Drift[]): string {
  const n = (t: DiffType) => drifts.filter((d) => d.type === t).length;
  return `removed: ${n("create")}, changed: ${n("update")}, excluded: ${n("exclude")}`;
}

/** An RFC 7386 merge patch turning `from` into `to` (objects merged key by key, anything else replaced). */
export function mergePatchOf(from: unknown, to: unknown): unknown {
  if (!isRecord(from) || !isRecord(to)) return to;
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(from)) if (!Object.hasOwn(to, key)) patch[key] = null;
  for (const key of Object.keys(to)) {
    if (!Object.hasOwn(from, key)) patch[key] = to[key];
    else if (!isDeepStrictEqual(from[key], to[key])) patch[key] = mergePatchOf(from[key], to[key]);
  }
  return patch;
}

/**
 * The merge patch that corrects a drifted object: the live object becomes the dry-run result, except at ignored
 * pointers, which keep their live value. Like Flux's JSON patch it carries no resourceVersion: it touches only the
 * drifted fields, and the status writers of a busy object (a Deployment's controller) would make a guarded patch fail.
 */
export function correctionPatch(live: KubeObject, dryRun: KubeObject, ignored: readonly string[]): unknown {
  const target = structuredClone(dryRun) as KubeObject;
  for (const p of ignored) {
    if (p === "") continue;
    const got = getPointer(live, p);
    if (got.found) setPointer(target, p, structuredClone(got.value));
    else removePointer(target, p);
  }
  return mergePatchOf(comparable(live, []), comparable(target, []));
}
