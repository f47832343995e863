// The stream's compact form of summaries. With thousands of objects the first messages are what the page waits for,
// and the browser's time goes into reading them (the EventSource parser, JSON.parse, building objects), all in
// proportion to their size: so a batch carries each distinct string once (kinds, namespaces, reasons, messages,
// revisions and times repeat across objects) and each summary is a row of indexes into that table, with what is usual
// (Ready True, not suspended, no attempted revision of its own…) left off the end of the row. For 5,000 Kustomizations
// that is about a quarter of the plain JSON. Both halves use these two functions.
import type { ObjectRefView, State, Summary, SummaryKind } from "./types.js";

/** A batch of summaries: the strings they use (the first is always ""), and one row per summary. */
export interface WireBatch {
  s: string[];
  r: WireRow[];
}

/**
 * One summary. Positions: 0 kind, 1 namespace, 2 name, 3 state, 4 reason, 5 message, 6 since, 7 revision, 8 path
 * (string indexes, except state: its index in `stateCodes`), 9 source (index of "<kind>/<namespace>/<name>", 0 for
 * none), 10 inventory count (-1 for none), 11 Ready status (index in `readyCodes`), 12 attempted revision (-1 when
 * it is the revision), 13 suspended (0/1), 14 dependsOn (reference indexes, 0 for none), 15 ref (-1 for none),
 * 16 artifact ([digest, lastUpdate, size?], 0 for none). Trailing positions equal to their default are left off.
 */
export type WireRow = (number | number[])[];

const stateCodes: readonly State[] = ["ready", "failing", "stalled", "reconciling", "suspended", "unknown"];
const readyCodes: readonly Summary["ready"][] = ["True", "False", "Unknown"];
/** The value each position takes when it is left off (positions 0–8 are always written). */
const defaults: readonly (number | undefined)[] = [
  undefined,
  undefined,
  undefined,
  undefined,
  undefined,
  undefined,
  undefined,
  undefined,
  undefined,
  0,
  -1,
  0,
  -1,
  0,
  0,
  -1,
  0,
];

export function packSummaries(items: readonly Summary[]): WireBatch {
  const s: string[] = [""];
  const index = new Map<string, number>([["", 0]]);
  const str = (v: string): number => {
    let n = index.get(v);
    if (n === undefined) {
      n = s.length;
      s.push(v);
      index.set(v, n);
    }
    return n;
  };
  const ref = (r: ObjectRefView) => str(`${r.kind}/${r.namespace}/${r.name}`);
  const r = items.map((x): WireRow => {
    const row: WireRow = [
      str(x.kind),
      str(x.namespace),
      str(x.name),
      stateCodes.indexOf(x.state),
      str(x.reason),
      str(x.message),
      str(x.since),
      str(x.revision),
      str(x.path),
      x.source ? ref(x.source) : 0,
      x.inventoryCount ?? -1,
      readyCodes.indexOf(x.ready),
      x.attemptedRevision === x.revision ? -1 : str(x.attemptedRevision),
      x.suspended ? 1 : 0,
      x.dependsOn?.length ? x.dependsOn.map(ref) : 0,
      x.ref === undefined ? -1 : str(x.ref),
      x.artifact
        ? x.artifact.size === undefined
          ? [str(x.artifact.digest), str(x.artifact.lastUpdate)]
          : [str(x.artifact.digest), str(x.artifact.lastUpdate), x.artifact.size]
        : 0,
    ];
    while (row.length > 9 && row[row.length - 1] === defaults[row.length - 1]) row.pop();
    return row;
  });
  return { s, r };
}

export function unpackSummaries(batch: WireBatch): Summary[] {
  const t = batch.s;
  const text = (i: number | number[] | undefined): string => (typeof i === "number" ? (t[i] ?? "") : "");
  // Objects that name the same source or dependency share one reference object.
  const refs = new Map<number, ObjectRefView>();
  const ref = (i: number): ObjectRefView => {
    let v = refs.get(i);
    if (!v) {
      const [kind = "", namespace = "", name = ""] = text(i).split("/");
      v = { kind, namespace, name };
      refs.set(i, v);
    }
    return v;
  };
  return batch.r.map((row) => {
    const kind = text(row[0]) as SummaryKind;
    const namespace = text(row[1]);
    const name = text(row[2]);
    const revision = text(row[7]);
    const attempted = row[12] ?? -1;
    const s: Summary = {
      key: `${kind}/${namespace}/${name}`,
      kind,
      namespace,
      name,
      state: stateCodes[row[3] as number] ?? "unknown",
      ready: readyCodes[(row[11] as number | undefined) ?? 0] ?? "Unknown",
      reason: text(row[4]),
      message: text(row[5]),
      since: text(row[6]),
      suspended: row[13] === 1,
      revision,
      attemptedRevision: attempted === -1 ? revision : text(attempted),
      path: text(row[8]),
    };
    addOptional(s, row, text, ref);
    return s;
  });
}

/** The fields of a row that only some kinds have. */
function addOptional(
  s: Summary,
  row: WireRow,
  text: (i: number | number[] | undefined) => string,
  ref: (i: number) => ObjectRefView,
): void {
  const source = row[9] ?? 0;
  if (source !== 0) s.source = ref(source as number);
  const deps = row[14] ?? 0;
  if (s.kind === "Kustomization" || s.kind === "HelmRelease") s.dependsOn = Array.isArray(deps) ? deps.map(ref) : [];
  const f = row[15] ?? -1;
  if (f !== -1) s.ref = text(f);
  const inventory = row[10] ?? -1;
  if (inventory !== -1) s.inventoryCount = inventory as number;
  const a = row[16] ?? 0;
  if (Array.isArray(a)) {
    s.artifact = { digest: text(a[0]), lastUpdate: text(a[1]), ...(a[2] !== undefined ? { size: a[2] } : {}) };
  }
}
