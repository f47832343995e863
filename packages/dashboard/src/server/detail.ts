// An application's page: its conditions, source, history, dependencies, Events, and its inventory with the live health
// of each object, read as the user (impersonated), so objects they may not get show as Forbidden rather than leaking.
import { ApiError, isForbidden, isNotFound, type KubeClient } from "@capstan/runtime";
import type {
  ConditionView,
  Detail,
  HistoryView,
  InventoryItem,
  ObjectRefView,
  ReleaseView,
  SourceView,
  Summary,
  SummaryKind,
} from "../shared/types.js";
import { sourceKinds } from "../shared/types.js";
import type { Principal } from "./auth/authenticate.js";
import { driftHistory } from "./drift.js";
import { healthOf, parseInventoryId } from "./health.js";
import { clip, commitUrl, conditions, type Obj, summarize } from "./model.js";
import type { ClusterStore } from "./store.js";

/** Inventory entries read live per page view; more are listed without health. */
export const maxLiveInventory = 300;
const concurrency = 8;

export async function buildDetail(
  client: KubeClient,
  store: ClusterStore,
  who: Principal,
  kind: string,
  namespace: string,
  name: string,
): Promise<Detail | undefined> {
  const cached = store.object(kind, namespace, name);
  if (!cached) return undefined;
  const as = who.insecure ? client : client.impersonate({ user: who.user, groups: who.groups });
  // The cache holds no inventory entries or history (lean-client.ts): read the object itself, as the user.
  const obj = kind === "Kustomization" ? ((await liveObject(as, cached)) ?? cached) : cached;
  const summary = summarize(obj);
  const status = obj.status ?? {};
  const spec = obj.spec ?? {};
  const entries = inventoryEntries(obj);
  const inventory = await inventoryHealth(as, entries.slice(0, maxLiveInventory));
  for (const e of entries.slice(maxLiveInventory)) inventory.push({ ...e, health: "Unknown", message: "not read" });
  const source =
    kind === "Kustomization"
      ? sourceView(store, summary.source)
      : kind === "HelmRelease"
        ? sourceView(store, helmChartOf(obj))
        : sourceKinds.includes(kind as SummaryKind)
          ? sourceOf(obj, store)
          : undefined;
  return {
    summary,
    conditions: conditions(obj).map(
      (c): ConditionView => ({
        type: clip(c.type, 64),
        status: clip(c.status, 16),
        reason: clip(c.reason, 128),
        message: clip(c.message, 4_000),
        lastTransitionTime: clip(c.lastTransitionTime, 64),
        ...(typeof c.observedGeneration === "number" ? { observedGeneration: c.observedGeneration } : {}),
      }),
    ),
    generation: obj.metadata.generation ?? 0,
    observedGeneration: typeof status.observedGeneration === "number" ? status.observedGeneration : -1,
    interval: clip(spec.interval, 32),
    ...(typeof spec.prune === "boolean" ? { prune: spec.prune } : {}),
    ...(typeof spec.targetNamespace === "string" ? { targetNamespace: clip(spec.targetNamespace, 63) } : {}),
    lastHandledReconcileAt: clip(status.lastHandledReconcileAt, 64),
    requestedAt: clip(obj.metadata.annotations?.["reconcile.fluxcd.io/requestedAt"], 64),
    history: history(obj),
    ...(kind === "HelmRelease" ? { releases: releases(obj) } : {}),
    ...(source ? { source } : {}),
    inventory,
    inventoryTruncated: entries.length > maxLiveInventory,
    events: store.eventsFor(kind, namespace, name).slice(0, 200),
    dependents: store
      .dependents(namespace, name)
      .map((s): ObjectRefView => ({ kind: s.kind, namespace: s.namespace, name: s.name })),
    drift:
      kind === "Kustomization"
        ? driftHistory(store.rawEventsFor(kind, namespace, name), store.appliedRevisionsSeen(namespace, name))
        : [],
  };
}

async function liveObject(as: KubeClient, cached: Obj): Promise<Obj | undefined> {
  try {
    const ref = { apiVersion: cached.apiVersion, kind: cached.kind, name: cached.metadata.name };
    return (await as.get({ ...ref, namespace: cached.metadata.namespace ?? "" })) as Obj | undefined;
  } catch {
    return undefined;
  }
}

type Entry = Omit<InventoryItem, "health" | "message">;

function inventoryEntries(obj: Obj): Entry[] {
  const inv = obj.status?.inventory as { entries?: { id?: unknown; v?: unknown }[] } | undefined;
  if (!Array.isArray(inv?.entries)) return [];
  const out: Entry[] = [];
  for (const e of inv.entries.slice(0, 10_000)) {
    if (typeof e?.id !== "string" || typeof e.v !== "string") continue;
    const p = parseInventoryId(e.id);
    if (!p) continue;
    out.push({
      id: clip(e.id, 600),
      apiVersion: p.group ? `${p.group}/${clip(e.v, 64)}` : clip(e.v, 64),
      kind: p.kind,
      namespace: p.namespace,
      name: p.name,
    });
  }
  return out;
}

async function inventoryHealth(as: KubeClient, entries: Entry[]): Promise<InventoryItem[]> {
  const out: InventoryItem[] = new Array(entries.length);
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const i = next++;
      const e = entries[i] as Entry;
      out[i] = { ...e, ...(await readHealth(as, e)) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, entries.length) }, worker));
  return out;
}

async function readHealth(as: KubeClient, e: Entry): Promise<Pick<InventoryItem, "health" | "message">> {
  try {
    const live = await as.get({
      apiVersion: e.apiVersion,
      kind: e.kind,
      name: e.name,
      ...(e.namespace ? { namespace: e.namespace } : {}),
    });
    if (!live) return { health: "NotFound", message: "not found in the cluster" };
    return healthOf(live as Obj);
  } catch (err) {
    if (isForbidden(err)) return { health: "Forbidden", message: "you may not read this object" };
    if (isNotFound(err)) return { health: "NotFound", message: "kind not served" };
    return { health: "Unknown", message: err instanceof ApiError ? clip(err.serverMessage) : "could not read" };
  }
}

function history(obj: Obj): HistoryView[] {
  const list = obj.status?.history;
  // A HelmRelease's history is its Helm releases (releases()), not a Kustomization's reconcile history.
  if (!Array.isArray(list) || obj.kind === "HelmRelease") return [];
  return list.slice(0, 20).map((h: Record<string, unknown>) => ({
    digest: clip(h.digest, 128),
    revision: clip((h.metadata as Record<string, unknown> | undefined)?.revision),
    firstReconciled: clip(h.firstReconciled, 64),
    lastReconciled: clip(h.lastReconciled, 64),
    lastReconciledDuration: clip(h.lastReconciledDuration, 64),
    lastReconciledStatus: clip(h.lastReconciledStatus, 64),
    totalReconciliations: typeof h.totalReconciliations === "number" ? h.totalReconciliations : 0,
  }));
}

/**
 * The HelmChart a HelmRelease's chart comes from: the one source-controller built for spec.chart
 * (status.helmChart, "<namespace>/<name>"; before the first reconcile, "<namespace>-<name>" in the source's namespace,
 * as helm-controller names it), or the HelmChart or OCIRepository of spec.chartRef.
 */
export function helmChartOf(obj: Obj): ObjectRefView | undefined {
  const spec = obj.spec ?? {};
  const namespace = obj.metadata.namespace ?? "";
  const chartRef = spec.chartRef as { kind?: unknown; name?: unknown; namespace?: unknown } | undefined;
  if (chartRef && typeof chartRef.name === "string" && typeof chartRef.kind === "string") {
    return {
      kind: clip(chartRef.kind, 64),
      name: clip(chartRef.name, 253),
      namespace: clip(chartRef.namespace, 63) || namespace,
    };
  }
  const built = obj.status?.helmChart;
  if (typeof built === "string" && /^[^/]+\/[^/]+$/.test(built)) {
    const [ns, name] = built.split("/") as [string, string];
    return { kind: "HelmChart", namespace: clip(ns, 63), name: clip(name, 253) };
  }
  const chartSpec = (spec.chart as { spec?: { sourceRef?: { namespace?: unknown } } } | undefined)?.spec;
  if (!chartSpec) return undefined;
  const sourceNs = clip(chartSpec.sourceRef?.namespace, 63) || namespace;
  return { kind: "HelmChart", namespace: sourceNs, name: clip(`${namespace}-${obj.metadata.name}`, 253) };
}

/** A HelmRelease's status.history: its Helm releases, newest first (helm-controller keeps the last few). */
function releases(obj: Obj): ReleaseView[] {
  const list = obj.status?.history;
  if (!Array.isArray(list)) return [];
  return list.slice(0, 20).map((h: Record<string, unknown>) => ({
    version: typeof h.version === "number" ? h.version : 0,
    chartName: clip(h.chartName, 253),
    chartVersion: clip(h.chartVersion, 128),
    appVersion: clip(h.appVersion, 128),
    status: clip(h.status, 64),
    firstDeployed: clip(h.firstDeployed, 64),
    lastDeployed: clip(h.lastDeployed, 64),
    digest: clip(h.digest, 128),
  }));
}

function sourceView(store: ClusterStore, ref: ObjectRefView | undefined): SourceView | undefined {
  if (!ref) return undefined;
  const obj = store.object(ref.kind, ref.namespace, ref.name);
  if (!obj) {
    return {
      ...ref,
      url: "",
      ref: "",
      revision: "",
      digest: "",
      lastUpdateTime: "",
      state: "unknown",
      message: "not found",
    };
  }
  return sourceOf(obj, store);
}

/** A source as its page (or the page of what uses it) shows it. A HelmChart shows its chart and where it comes from. */
export function sourceOf(obj: Obj, store?: ClusterStore): SourceView {
  const s: Summary = summarize(obj);
  const artifact = (obj.status?.artifact ?? {}) as Record<string, unknown>;
  const link = s.kind === "GitRepository" ? commitUrl(s.path, s.revision) : undefined;
  const chart = s.kind === "HelmChart";
  const from = chart ? s.source : undefined;
  // The chart's repository URL, from the HelmRepository (or GitRepository) it is pulled from.
  const fromUrl = from ? (store?.summary(from.kind, from.namespace, from.name)?.path ?? "") : "";
  return {
    kind: s.kind,
    namespace: s.namespace,
    name: s.name,
    url: chart ? fromUrl : s.path,
    ref: s.ref ?? "",
    ...(chart ? { chart: s.path } : {}),
    ...(from ? { from } : {}),
    revision: s.revision,
    digest: clip(artifact.digest, 128),
    ...(typeof artifact.size === "number" ? { size: artifact.size } : {}),
    lastUpdateTime: clip(artifact.lastUpdateTime, 64),
    ...(link ? { commitUrl: link } : {}),
    state: s.state,
    message: s.message,
  };
}
