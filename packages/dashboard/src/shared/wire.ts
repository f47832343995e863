// The stream's compact form of a Summary: short keys, and what is usual left out (state ready, Ready True, empty
// strings, not suspended, an attempted revision equal to the applied one, a source or dependency in the object's own
// namespace). With thousands of objects the first message is what the page waits for: this makes it less than half
// the plain JSON, which the server writes and the browser parses faster. Both halves use these two functions.
import type { ObjectRefView, State, Summary, SummaryKind } from "./types.js";

/** A reference: [kind, name] in the object's namespace, [kind, name, namespace] elsewhere. */
type WireRef = [string, string] | [string, string, string];

export interface WireSummary {
  k: SummaryKind;
  ns: string;
  n: string;
  s?: State;
  rd?: "False" | "Unknown";
  r?: string;
  m?: string;
  t?: string;
  sp?: 1;
  v?: string;
  av?: string;
  p?: string;
  src?: WireRef;
  d?: WireRef[];
  f?: string;
  i?: number;
  /** A source's artifact: [digest, lastUpdateTime, size?]. */
  a?: [string, string] | [string, string, number];
}

const ref = (r: ObjectRefView, ns: string): WireRef =>
  r.namespace === ns ? [r.kind, r.name] : [r.kind, r.name, r.namespace];
const unref = (r: WireRef, ns: string): ObjectRefView => ({ kind: r[0], name: r[1], namespace: r[2] ?? ns });

export function packSummary(s: Summary): WireSummary {
  const w: WireSummary = { k: s.kind, ns: s.namespace, n: s.name };
  if (s.state !== "ready") w.s = s.state;
  if (s.ready !== "True") w.rd = s.ready;
  if (s.reason) w.r = s.reason;
  if (s.message) w.m = s.message;
  if (s.since) w.t = s.since;
  if (s.suspended) w.sp = 1;
  if (s.revision) w.v = s.revision;
  if (s.attemptedRevision !== s.revision) w.av = s.attemptedRevision;
  if (s.path) w.p = s.path;
  if (s.source) w.src = ref(s.source, s.namespace);
  if (s.dependsOn?.length) w.d = s.dependsOn.map((d) => ref(d, s.namespace));
  if (s.ref !== undefined) w.f = s.ref;
  if (s.inventoryCount !== undefined) w.i = s.inventoryCount;
  if (s.artifact) {
    const { digest, lastUpdate, size } = s.artifact;
    w.a = size === undefined ? [digest, lastUpdate] : [digest, lastUpdate, size];
  }
  return w;
}

export function unpackSummary(w: WireSummary): Summary {
  const s: Summary = {
    key: `${w.k}/${w.ns}/${w.n}`,
    kind: w.k,
    namespace: w.ns,
    name: w.n,
    state: w.s ?? "ready",
    ready: w.rd ?? "True",
    reason: w.r ?? "",
    message: w.m ?? "",
    since: w.t ?? "",
    suspended: w.sp === 1,
    revision: w.v ?? "",
    attemptedRevision: w.av ?? w.v ?? "",
    path: w.p ?? "",
  };
  if (w.src) s.source = unref(w.src, w.ns);
  if (w.k === "Kustomization" || w.k === "HelmRelease") s.dependsOn = (w.d ?? []).map((d) => unref(d, w.ns));
  if (w.f !== undefined) s.ref = w.f;
  if (w.i !== undefined) s.inventoryCount = w.i;
  if (w.a) s.artifact = { digest: w.a[0], lastUpdate: w.a[1], ...(w.a[2] !== undefined ? { size: w.a[2] } : {}) };
  return s;
}
