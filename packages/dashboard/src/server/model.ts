// Pure summaries of toolkit objects: the state the overview counts, the fields the lists show. Everything here reads
// hostile data (any tenant writes specs, any controller writes status) and bounds what it copies.

import { Conditions } from "@capstan/runtime";
import type { EventView, ObjectRefView, State, Summary, SummaryKind } from "../shared/types.js";
import { healthOf } from "./health.js";

/** A loosely typed Kubernetes object as the informers deliver it. */
export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    generation?: number;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface Cond {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

const maxMessage = 2_000;
const maxField = 512;

export function clip(value: unknown, max = maxField): string {
  if (typeof value !== "string") return "";
  return value.length > max ? `${value.slice(0, max - 1)}…` : value;
}

export function conditions(obj: Obj): Cond[] {
  const list = obj.status?.conditions;
  if (!Array.isArray(list)) return [];
  return list.filter(
    (c): c is Cond => !!c && typeof c === "object" && typeof c.type === "string" && typeof c.status === "string",
  );
}

export function condition(obj: Obj, type: string): Cond | undefined {
  return conditions(obj).find((c) => c.type === type);
}

/** kstatus plus suspend: suspended wins, then Stalled, Reconciling, Ready. */
export function stateOf(obj: Obj): State {
  if (obj.spec?.suspend === true) return "suspended";
  if (condition(obj, Conditions.Stalled)?.status === "True") return "stalled";
  if (condition(obj, Conditions.Reconciling)?.status === "True") return "reconciling";
  const ready = condition(obj, Conditions.Ready);
  const observed = obj.status?.observedGeneration;
  const generation = obj.metadata.generation;
  if (typeof observed === "number" && typeof generation === "number" && observed >= 0 && observed < generation) {
    return "reconciling";
  }
  if (ready?.status === "True") return "ready";
  if (ready?.status === "False") return "failing";
  return ready ? "reconciling" : "unknown";
}

export function summaryKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

/** An URL without its userinfo (https://user:token@host → https://host): credentials never leave the server. */
export function redactUrl(raw: unknown): string {
  const url = clip(raw, 2048);
  if (!url) return "";
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = "";
      u.password = "";
    }
    return u.toString();
  } catch {
    // scp-like SSH addresses (git@host:org/repo) carry a user name, not a secret.
    return url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^@/]*@/i, (m) => m.replace(/\/\/[^@/]*@/, "//"));
  }
}

function sourceRefField(spec: Record<string, unknown> | undefined, fields: readonly string[]): string {
  const ref = spec?.ref as Record<string, unknown> | undefined;
  if (!ref || typeof ref !== "object") return "";
  for (const field of fields) {
    const v = ref[field];
    if (typeof v === "string" && v) return `${field === "branch" ? "" : `${field}:`}${clip(v, 256)}`;
  }
  return "";
}

/** GitRepository's spec.ref, most specific first, as Flux resolves it. */
const gitRef = (spec: Record<string, unknown> | undefined) =>
  sourceRefField(spec, ["commit", "name", "semver", "tag", "branch"]);
/** OCIRepository's spec.ref: digest wins over semver over tag. */
const ociRef = (spec: Record<string, unknown> | undefined) => sourceRefField(spec, ["digest", "semver", "tag"]);

/** A source's artifact: digest, size and when it last changed, bounded. */
function artifactOf(status: Record<string, unknown>): Summary["artifact"] {
  const a = status.artifact as Record<string, unknown> | undefined;
  if (!a || typeof a !== "object") return undefined;
  return {
    digest: clip(a.digest, 128),
    lastUpdate: clip(a.lastUpdateTime, 64),
    ...(typeof a.size === "number" && Number.isFinite(a.size) ? { size: a.size } : {}),
  };
}

function refView(raw: unknown, defaultNamespace: string, defaultKind = "Kustomization"): ObjectRefView | undefined {
  if (!raw || typeof raw !== "object") return undefined;
  const r = raw as Record<string, unknown>;
  if (typeof r.name !== "string") return undefined;
  return {
    kind: clip(r.kind, 64) || defaultKind,
    name: clip(r.name, 253),
    namespace: clip(r.namespace, 63) || defaultNamespace,
  };
}

/** Entries of status.inventory: the cache holds a count (lean-client.ts), an object read live the entries. */
function inventoryCount(inventory: unknown): number {
  const inv = inventory as { entries?: unknown[]; count?: unknown } | undefined;
  if (Array.isArray(inv?.entries)) return inv.entries.length;
  return typeof inv?.count === "number" ? inv.count : 0;
}

export function summarize(obj: Obj): Summary {
  const kind = obj.kind as SummaryKind;
  const namespace = obj.metadata.namespace ?? "";
  const ready = condition(obj, Conditions.Ready);
  const stalled = condition(obj, Conditions.Stalled);
  const shown = stalled?.status === "True" ? stalled : ready;
  const status = obj.status ?? {};
  const spec = obj.spec ?? {};
  const base: Summary = {
    key: summaryKey(kind, namespace, obj.metadata.name),
    kind,
    namespace,
    name: obj.metadata.name,
    state: stateOf(obj),
    ready: ready?.status === "True" || ready?.status === "False" ? ready.status : "Unknown",
    reason: clip(shown?.reason, 128),
    message: clip(shown?.message, maxMessage),
    since: clip(ready?.lastTransitionTime, 64),
    suspended: spec.suspend === true,
    revision: "",
    attemptedRevision: "",
    path: "",
  };
  if (kind === "Kustomization") {
    const dependsOn = Array.isArray(spec.dependsOn) ? spec.dependsOn : [];
    return {
      ...base,
      revision: clip(status.lastAppliedRevision),
      attemptedRevision: clip(status.lastAttemptedRevision),
      path: clip(spec.path),
      source: refView(spec.sourceRef, namespace),
      dependsOn: dependsOn
        .slice(0, 64)
        .map((d) => refView(d, namespace))
        .filter((d): d is ObjectRefView => !!d),
      inventoryCount: inventoryCount(status.inventory),
    };
  }
  if (kind === "HelmRelease") return helmRelease(base, obj);
  if (kind === "GitRepository" || kind === "OCIRepository" || kind === "HelmRepository" || kind === "HelmChart") {
    return sourceSummary(base, obj);
  }
  if (kind === "Deployment") {
    const h = healthOf(obj);
    const state: State =
      h.health === "Current"
        ? "ready"
        : h.health === "Failed"
          ? "failing"
          : h.health === "InProgress"
            ? "reconciling"
            : "unknown";
    const image = ((spec.template as { spec?: { containers?: { image?: unknown }[] } } | undefined)?.spec?.containers ??
      [])[0]?.image;
    return { ...base, state, reason: h.health, message: h.message, revision: clip(image) };
  }
  // Provider, Alert, Receiver: their specs hold addresses and secret references: only the type is shown.
  return { ...base, path: clip(spec.type, 64) };
}

/** A source: its artifact, URL (or chart and source, for a HelmChart) and the ref asked for. */
function sourceSummary(base: Summary, obj: Obj): Summary {
  const spec = obj.spec ?? {};
  const status = obj.status ?? {};
  const artifact = status.artifact as { revision?: unknown } | undefined;
  const a = artifactOf(status);
  const common = { ...base, revision: clip(artifact?.revision), ...(a ? { artifact: a } : {}) };
  if (base.kind === "GitRepository") return { ...common, path: redactUrl(spec.url), ref: gitRef(spec) };
  if (base.kind === "OCIRepository") return { ...common, path: redactUrl(spec.url), ref: ociRef(spec) };
  if (base.kind === "HelmRepository")
    return { ...common, path: redactUrl(spec.url), ref: clip(spec.type, 16) || "default" };
  // A HelmChart's sourceRef has no namespace: it is always in the chart's own.
  const source = refView(spec.sourceRef, base.namespace, "HelmRepository");
  return {
    ...common,
    path: clip(spec.chart, 253),
    ref: clip(spec.version, 128) || "*",
    ...(source ? { source: { ...source, namespace: base.namespace } } : {}),
  };
}

/** A HelmRelease, read as generically as a Kustomization: Ready, the chart and its source, the released version. */
function helmRelease(base: Summary, obj: Obj): Summary {
  const spec = obj.spec ?? {};
  const status = obj.status ?? {};
  const chart = ((spec.chart as { spec?: Record<string, unknown> } | undefined)?.spec ?? {}) as Record<string, unknown>;
  const latest = (Array.isArray(status.history) ? status.history[0] : undefined) as
    | { chartName?: unknown; chartVersion?: unknown }
    | undefined;
  const source = refView(chart.sourceRef ?? spec.chartRef, base.namespace);
  const dependsOn = Array.isArray(spec.dependsOn) ? spec.dependsOn : [];
  return {
    ...base,
    revision: clip(latest?.chartVersion, 128),
    attemptedRevision: clip(status.lastAttemptedRevision, 128),
    path: clip(chart.chart ?? latest?.chartName, 253),
    ...(source ? { source } : {}),
    dependsOn: dependsOn
      .slice(0, 64)
      .map((d) => refView(d, base.namespace, "HelmRelease"))
      .filter((d): d is ObjectRefView => !!d),
  };
}

export function eventView(ev: Obj): EventView {
  const e = ev as unknown as Record<string, unknown>;
  const involved = (e.involvedObject ?? {}) as Record<string, unknown>;
  const namespace = ev.metadata.namespace ?? "";
  const source = (e.source ?? {}) as Record<string, unknown>;
  const series = (e.series ?? {}) as Record<string, unknown>;
  const time =
    clip(series.lastObservedTime, 64) ||
    clip(e.lastTimestamp, 64) ||
    clip(e.eventTime, 64) ||
    clip(e.firstTimestamp, 64) ||
    clip((ev.metadata as Record<string, unknown>).creationTimestamp, 64);
  return {
    key: `${namespace}/${ev.metadata.name}`,
    namespace,
    involved: {
      kind: clip(involved.kind, 64),
      name: clip(involved.name, 253),
      namespace: clip(involved.namespace, 63) || namespace,
    },
    type: clip(e.type, 16),
    reason: clip(e.reason, 128),
    message: clip(e.message, maxMessage),
    count: typeof e.count === "number" ? e.count : typeof series.count === "number" ? series.count : 1,
    time,
    source: clip(source.component, 128) || clip(e.reportingComponent, 128),
  };
}

/** Newest first. */
export function byTimeDesc(a: { time: string }, b: { time: string }): number {
  return a.time < b.time ? 1 : a.time > b.time ? -1 : 0;
}

/**
 * A link to the commit for GitHub, GitLab and Bitbucket URLs (HTTPS or SSH), from a Flux revision
 * (`main@sha1:<hex>`, `sha1:<hex>`).
 */
export function commitUrl(repoUrl: string, revision: string): string | undefined {
  const sha = /(?:^|@)sha1:([0-9a-f]{40})$/.exec(revision)?.[1];
  if (!sha) return undefined;
  let host: string;
  let path: string;
  const scp = /^(?:ssh:\/\/)?[^@/]+@([^:/]+)[:/](.+)$/.exec(repoUrl);
  if (scp?.[1] && scp[2]) {
    host = scp[1];
    path = scp[2];
  } else {
    try {
      const u = new URL(repoUrl);
      host = u.hostname;
      path = u.pathname.replace(/^\//, "");
    } catch {
      return undefined;
    }
  }
  path = path.replace(/\.git$/, "").replace(/\/$/, "");
  if (!/^[\w.-]+(\/[\w.-]+)+$/.test(path)) return undefined;
  if (host === "github.com") return `https://github.com/${path}/commit/${sha}`;
  if (host === "gitlab.com") return `https://gitlab.com/${path}/-/commit/${sha}`;
  if (host === "bitbucket.org") return `https://bitbucket.org/${path}/commits/${sha}`;
  return undefined;
}
