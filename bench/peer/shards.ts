// The pure parts of the peer bench's sharding (--shards K) and of its per-process table: which shard an app belongs
// to, the --watch-label-selector each process gets (read from the rendered charts for Capstan; Flux's documented
// sharding for Flux, the same selectors), the idle-CPU arithmetic and the rows of the table. Tested in
// bench/test/peer-shards.test.ts.
import { parseAllDocuments } from "yaml";

/** The label Flux's sharding selects on. */
export const shardKey = "sharding.fluxcd.io/key";

/** The shard names of --shards K: shard1 … shardK (the charts' example names). */
export function shardNames(k: number): string[] {
  if (!Number.isInteger(k) || k < 0) throw new Error(`--shards must be a non-negative integer, got ${k}`);
  return Array.from({ length: k }, (_, i) => `shard${i + 1}`);
}

/** The shard of app i (0-based) among K shards, round-robin; undefined without shards (the main process takes it). */
export function shardOfApp(i: number, k: number): string | undefined {
  return k > 0 ? `shard${(i % k) + 1}` : undefined;
}

/**
 * The --watch-label-selector of a process as Flux documents its sharding: a shard takes the objects labelled with
 * its name, the main process those without the label; no selector at all when there are no shards.
 */
export function fluxSelectorArgs(shard: string | undefined, k: number): string[] {
  if (shard) return [`--watch-label-selector=${shardKey} in (${shard})`];
  return k > 0 ? [`--watch-label-selector=!${shardKey}`] : [];
}

/** The flags the bench sets itself on every process (ports, storage, logging, limits, leader election). */
const benchOwned = new Set([
  "--health-addr",
  "--metrics-addr",
  "--log-level",
  "--log-encoding",
  "--watch-all-namespaces",
  "--concurrent",
  "--leader-elect",
  "--storage-path",
  "--storage-addr",
  "--storage-adv-addr",
]);

interface Deployment {
  kind?: string;
  metadata?: { name?: string };
  spec?: { template?: { spec?: { containers?: { name?: string; args?: string[] }[] } } };
}

/**
 * The args of a chart's Deployment for `shard` (the main one when undefined: `<chart>`, a shard's `<chart>-<shard>`)
 * from `helm template` output, without the flags the bench sets itself: what the bench adds to its own command line
 * so each process runs as the chart would run it (today the --watch-label-selector).
 */
export function chartArgs(rendered: string, chart: string, shard: string | undefined): string[] {
  const name = shard ? `${chart}-${shard}` : chart;
  const deployment = parseAllDocuments(rendered)
    .map((d) => d.toJS() as Deployment | null)
    .find((d) => d?.kind === "Deployment" && d.metadata?.name === name);
  if (!deployment) throw new Error(`the rendered chart ${chart} has no Deployment ${name}`);
  const container = deployment.spec?.template?.spec?.containers?.find((c) => c.name === "manager");
  if (!container) throw new Error(`Deployment ${name} of chart ${chart} has no container "manager"`);
  return (container.args ?? []).filter((a) => !benchOwned.has(a.split("=")[0] ?? a));
}

/** One controller process of a side: the main one (shard undefined) or a shard. */
export interface ProcessId {
  controller: "source-controller" | "kustomize-controller";
  shard?: string;
}

/** The process's name in the table and logs: `<controller>` or `<controller>-<shard>` (the charts' Deployment name). */
export const processLabel = (p: ProcessId) => (p.shard ? `${p.controller}-${p.shard}` : p.controller);

/**
 * The processes of a side in table order: each controller's main process, then its shards. With K = 0 the two main
 * processes only, as the bench always ran.
 */
export function processesOf(k: number): ProcessId[] {
  const out: ProcessId[] = [];
  for (const controller of ["source-controller", "kustomize-controller"] as const) {
    out.push({ controller });
    for (const shard of shardNames(k)) out.push({ controller, shard });
  }
  return out;
}

/** CPU over a wall-clock window as % of one core: 100 × CPU seconds / wall seconds. */
export function cpuPercentOfCore(cpuBefore: number, cpuAfter: number, wallSeconds: number): number {
  if (!(wallSeconds > 0)) throw new Error(`the idle window must last > 0 s, got ${wallSeconds}`);
  return (100 * (cpuAfter - cpuBefore)) / wallSeconds;
}

/** What the bench measured of one process. */
export interface ProcessFigures {
  /** CPU seconds (self + reaped children) from both controllers ready to the end of the last all-Ready. */
  cpu: number;
  /** VmHWM, KiB. */
  hwmKiB: number;
  /** Peak of the process tree's summed VmRSS (sampled), KiB. */
  treePeakKiB: number;
  /** CPU over the quiet window after the last all-Ready, % of one core. */
  idlePercent: number;
  /** Objects it reconciled (from its gotk_reconcile_duration_seconds series), when known. */
  reconciled?: { GitRepository: number; Kustomization: number };
}

/** One row of the table: a measure with its Flux and Capstan values (NaN for a side not run). */
export interface Row {
  measure: string;
  flux: number;
  capstan: number;
  unit: "s" | "MiB" | "%";
}

const sum = (xs: number[]) => xs.reduce((a, x) => a + x, 0);

/**
 * The per-process rows and their sums, in table order. Without shards the row names are the bench's historical ones
 * (`source-controller CPU (self + children)`, `CPU, both controllers`, ...), so older tables still read alike.
 */
export function processRows(
  processes: ProcessId[],
  flux: (ProcessFigures | undefined)[],
  capstan: (ProcessFigures | undefined)[],
  idleSeconds: number,
): Row[] {
  const rows: Row[] = [];
  const pick = (side: (ProcessFigures | undefined)[], i: number, f: (p: ProcessFigures) => number) => {
    const p = side[i];
    return p ? f(p) : Number.NaN;
  };
  const all = (side: (ProcessFigures | undefined)[], f: (p: ProcessFigures) => number) =>
    sum(processes.map((_, i) => pick(side, i, f)));
  const per = (name: string, unit: Row["unit"], f: (p: ProcessFigures) => number) => {
    for (const [i, p] of processes.entries()) {
      rows.push({ measure: `${processLabel(p)} ${name}`, flux: pick(flux, i, f), capstan: pick(capstan, i, f), unit });
    }
  };
  const many = processes.length > 2;
  const total = many ? `all ${processes.length} processes` : "both controllers";
  per("CPU (self + children)", "s", (p) => p.cpu);
  rows.push({
    measure: `CPU, ${total}`,
    flux: all(flux, (p) => p.cpu),
    capstan: all(capstan, (p) => p.cpu),
    unit: "s",
  });
  per("peak RSS (VmHWM)", "MiB", (p) => p.hwmKiB / 1024);
  if (many) {
    rows.push({
      measure: `peak RSS (VmHWM), sum of ${total}`,
      flux: all(flux, (p) => p.hwmKiB / 1024),
      capstan: all(capstan, (p) => p.hwmKiB / 1024),
      unit: "MiB",
    });
  }
  per("peak RSS + children (sampled)", "MiB", (p) => p.treePeakKiB / 1024);
  if (idleSeconds > 0) {
    per(`idle CPU over ${idleSeconds} s (% of a core)`, "%", (p) => p.idlePercent);
    rows.push({
      measure: `idle CPU, ${total} (% of a core)`,
      flux: all(flux, (p) => p.idlePercent),
      capstan: all(capstan, (p) => p.idlePercent),
      unit: "%",
    });
  }
  return rows;
}

/** A row's value as the table prints it. */
export function formatValue(x: number, unit: Row["unit"]): string {
  if (Number.isNaN(x)) return "NaN";
  if (unit === "s") return `${x.toFixed(1)} s`;
  if (unit === "MiB") return `${x.toFixed(0)} MiB`;
  return `${x.toFixed(2)} %`;
}

/**
 * The objects each process reconciled, from the text of its /metrics: the names in its
 * gotk_reconcile_duration_seconds_count series (Flux's and Capstan's runtime export one per object), by kind.
 */
export function reconciledNames(metricsText: string): { kind: string; name: string }[] {
  const out: { kind: string; name: string }[] = [];
  for (const line of metricsText.split("\n")) {
    const m = /^gotk_reconcile_duration_seconds_count\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || Number(m[2]) <= 0) continue;
    const kind = /(?:^|,)kind="([^"]*)"/.exec(m[1] ?? "")?.[1];
    const name = /(?:^|,)name="([^"]*)"/.exec(m[1] ?? "")?.[1];
    if (kind && name) out.push({ kind, name });
  }
  return out;
}

/**
 * The objects a process logged about, for controllers without per-object metrics (Flux's removed
 * gotk_reconcile_duration_seconds in v2.5): controller-runtime's JSON log lines carry the object as
 * `"<Kind>":{"name":"<name>","namespace":"<ns>"}`. Each object once.
 */
export function loggedNames(logText: string): { kind: string; name: string }[] {
  const seen = new Set<string>();
  const out: { kind: string; name: string }[] = [];
  for (const m of logText.matchAll(/"(GitRepository|OCIRepository|Kustomization)":\{"name":"([^"]+)"/g)) {
    const key = `${m[1]}/${m[2]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ kind: m[1] ?? "", name: m[2] ?? "" });
  }
  return out;
}

/**
 * The objects a process reconciled that are not its own: an app `app-<i>` belongs to shardOfApp(i, k) (the main
 * process when undefined). Empty when every process kept to its shard.
 */
export function strayReconciles(
  process: ProcessId,
  reconciled: { kind: string; name: string }[],
  k: number,
): { kind: string; name: string }[] {
  return reconciled.filter(({ name }) => {
    const i = /^app-(\d+)$/.exec(name)?.[1];
    return i === undefined || shardOfApp(Number(i), k) !== process.shard;
  });
}
