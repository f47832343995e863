// What the cluster did during one apply of the bench, read after the fact so that measuring it costs nothing while
// the controllers work: when the apps' Deployments were applied and when kube-controller-manager finished rolling
// them out (from the objects' own timestamps), and how many requests the apiserver served (its
// apiserver_request_total counters, read before and after). Both sides get the same figures; they split a side's
// time to all Ready into the controllers' part and the cluster's (bench/peer/README.md).
import type { KubeObject } from "@capstan/runtime";

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  time?: string;
  subresource?: string;
}

export type TimedDeployment = KubeObject & {
  status?: { conditions?: { type: string; reason?: string; lastUpdateTime?: string }[] };
};

/** Seconds from the apply's start (wall clock, ms) to each step; the objects' timestamps have 1 s resolution. */
export interface DeploymentTimeline {
  count: number;
  /** The first and the last Deployment a controller applied (its latest server-side apply of the object). */
  firstApplied: number;
  lastApplied: number;
  /** The last Deployment kube-controller-manager finished (Progressing: NewReplicaSetAvailable, its update time). */
  lastComplete: number;
  /** Deployments not complete when read (none when all Kustomizations are Ready with wait). */
  incomplete: number;
}

/**
 * The timeline of the apps' Deployments for an apply that started at `startWallMs`. "Applied" is the newest `time`
 * of an entry with operation Apply (a controller's server-side apply; kube-controller-manager writes status with
 * Update), so for the upgrade it is the upgrade's apply, not the creation.
 */
export function deploymentTimeline(items: TimedDeployment[], startWallMs: number): DeploymentTimeline {
  const rel = (iso: string | undefined) => (iso ? (Date.parse(iso) - startWallMs) / 1000 : Number.NaN);
  let firstApplied = Number.POSITIVE_INFINITY;
  let lastApplied = Number.NEGATIVE_INFINITY;
  let lastComplete = Number.NEGATIVE_INFINITY;
  let incomplete = 0;
  for (const d of items) {
    const applied = Math.max(
      ...((d.metadata.managedFields ?? []) as ManagedFieldsEntry[])
        .filter((f) => f.operation === "Apply" && !f.subresource)
        .map((f) => rel(f.time)),
    );
    if (Number.isFinite(applied)) {
      firstApplied = Math.min(firstApplied, applied);
      lastApplied = Math.max(lastApplied, applied);
    }
    const progressing = d.status?.conditions?.find((c) => c.type === "Progressing");
    if (progressing?.reason === "NewReplicaSetAvailable")
      lastComplete = Math.max(lastComplete, rel(progressing.lastUpdateTime));
    else incomplete++;
  }
  const finite = (x: number) => (Number.isFinite(x) ? x : Number.NaN);
  return {
    count: items.length,
    firstApplied: finite(firstApplied),
    lastApplied: finite(lastApplied),
    lastComplete: finite(lastComplete),
    incomplete,
  };
}

/** `apiserver_request_total` from the apiserver's /metrics: `<VERB> <group>/<resource>[/<subresource>]` → count. */
export function requestCounts(metrics: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of metrics.split("\n")) {
    const m = /^apiserver_request_total\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels = new Map([...(m[1] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1] ?? "", l[2] ?? ""]));
    const sub = labels.get("subresource");
    const key = `${labels.get("verb")} ${labels.get("group") || "core"}/${labels.get("resource")}${sub ? `/${sub}` : ""}`;
    out.set(key, (out.get(key) ?? 0) + Number(m[2]));
  }
  return out;
}

export const writeVerbs = new Set(["POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION"]);

export interface RequestFigures {
  /** Every write (POST, PUT, PATCH, APPLY, DELETE) by any client. */
  writes: number;
  /** GET and LIST. */
  reads: number;
  /** kube-controller-manager's part of the rollouts: Deployment status writes and every ReplicaSet write. */
  rolloutWrites: number;
}

/** The requests served between two reads of the counters, by verb and path, most first. */
export function requestDelta(before: Map<string, number>, after: Map<string, number>): [string, number][] {
  return [...after]
    .map(([key, count]): [string, number] => [key, count - (before.get(key) ?? 0)])
    .filter(([, d]) => d > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** The requests served between two reads of the counters. */
export function requestFigures(before: Map<string, number>, after: Map<string, number>): RequestFigures {
  const f: RequestFigures = { writes: 0, reads: 0, rolloutWrites: 0 };
  for (const [key, d] of requestDelta(before, after)) {
    const [verb = "", path = ""] = key.split(" ");
    if (writeVerbs.has(verb)) {
      f.writes += d;
      if (path === "apps/deployments/status" || path.startsWith("apps/replicasets")) f.rolloutWrites += d;
    } else if (verb === "GET" || verb === "LIST") f.reads += d;
  }
  return f;
}

export type BenchEvent = KubeObject & {
  reason?: string;
  count?: number;
  lastTimestamp?: string | null;
  eventTime?: string | null;
  source?: { component?: string };
  reportingComponent?: string;
  series?: { count?: number };
};

/**
 * Events touched since `startWallMs` (their last timestamp, 1 s resolution), by `<component> <reason>`: how many
 * Event objects and how many occurrences (their count), most first. Where a side's Event writes come from.
 */
export function eventSummary(items: BenchEvent[], startWallMs: number): [string, number, number][] {
  const groups = new Map<string, [number, number]>();
  for (const e of items) {
    const at = Date.parse(e.lastTimestamp ?? e.eventTime ?? "");
    if (!(at >= Math.floor(startWallMs / 1000) * 1000)) continue;
    const key = `${e.source?.component || e.reportingComponent || "?"} ${e.reason ?? "?"}`;
    const g = groups.get(key) ?? [0, 0];
    g[0]++;
    g[1] += e.series?.count ?? e.count ?? 1;
    groups.set(key, g);
  }
  return [...groups]
    .map(([k, [objects, count]]): [string, number, number] => [k, objects, count])
    .sort((a, b) => b[2] - a[2]);
}
