// The chart a HelmRelease releases: spec.chart makes the controller create (and own) the HelmChart `<ns>-<name>` in
// the source's namespace, as Flux does; spec.chartRef names an existing HelmChart (or an OCIRepository: see
// oci-source.ts). Either way the source's artifact (published by source-controller) is the chart, and the release
// waits while it has none.
import { HelmReleaseReasons, helmChartType } from "@capstan/api";
import { getCondition, type ReconcileContext, StallingError, WaitingError } from "@capstan/runtime";
import type { ChartArtifact } from "../chart/fetch.js";
import { canonicalJson } from "../helm/release.js";
import { helmChartRefOf } from "./names.js";
import { type OciChartOptions, resolveOciChart } from "./oci-source.js";
import type { HelmChartObject, HelmReleaseObject } from "./types.js";

/** Labels Flux puts on the HelmChart it creates for a HelmRelease. */
export const ownerLabels = { name: "helm.toolkit.fluxcd.io/name", namespace: "helm.toolkit.fluxcd.io/namespace" };

export interface ChartSourceOptions {
  fieldManager: string;
  noCrossNamespaceRefs: boolean;
  requeueMs: number;
  /** Largest chart artifact downloaded (chartRef OCIRepository reads it here), bytes; 10 MiB when unset. */
  chartMaxBytes?: number;
  /** chartRef OCIRepository: how its package is fetched, and the versions of packages read before. */
  oci: Pick<OciChartOptions, "fetch" | "versions">;
}

function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The HelmChart object spec.chart describes. */
export function helmChartFromTemplate(obj: HelmReleaseObject): HelmChartObject {
  const t = obj.spec.chart;
  const ref = helmChartRefOf(obj);
  if (!t || !ref) throw new Error("internal: helmChartFromTemplate without spec.chart");
  const labels = {
    ...t.metadata?.labels,
    [ownerLabels.name]: obj.metadata.name,
    [ownerLabels.namespace]: obj.metadata.namespace ?? "default",
  };
  return {
    apiVersion: `${helmChartType.group}/${helmChartType.version}`,
    kind: "HelmChart",
    metadata: {
      name: ref.name,
      namespace: ref.namespace,
      labels,
      ...(t.metadata?.annotations ? { annotations: t.metadata.annotations } : {}),
    },
    spec: defined({
      chart: t.spec.chart,
      version: t.spec.version ?? "*",
      sourceRef: defined({ kind: t.spec.sourceRef.kind, name: t.spec.sourceRef.name }),
      interval: t.spec.interval ?? obj.spec.interval,
      reconcileStrategy: t.spec.reconcileStrategy ?? "ChartVersion",
      valuesFiles: t.spec.valuesFiles,
      ignoreMissingValuesFiles: t.spec.ignoreMissingValuesFiles,
      verify: t.spec.verify,
    }) as HelmChartObject["spec"],
  } as HelmChartObject;
}

/** Creates or updates the templated HelmChart, or checks the chartRef; returns its artifact once it has one. */
export async function resolveChart(
  ctx: ReconcileContext,
  obj: HelmReleaseObject,
  o: ChartSourceOptions,
): Promise<{ artifact: ChartArtifact; helmChart: string }> {
  const ns = obj.metadata.namespace ?? "default";
  if (obj.spec.chartRef?.kind === "OCIRepository") {
    return resolveOciChart(ctx, obj, {
      noCrossNamespaceRefs: o.noCrossNamespaceRefs,
      requeueMs: o.requeueMs,
      chartMaxBytes: o.chartMaxBytes ?? 10 * 1024 * 1024,
      ...o.oci,
    });
  }
  if (obj.spec.chartRef?.kind === "ExternalArtifact") {
    // Flux 2.7's ExternalArtifact (source.toolkit.fluxcd.io/v1, written by ArtifactGenerator or third-party
    // controllers, read by Flux's helm-controller behind a feature gate): Capstan serves no such API, so nothing would
    // ever publish the artifact; waiting for it would hide that.
    throw new StallingError(
      "spec.chartRef kind ExternalArtifact is not supported: Capstan serves no ExternalArtifact API (source.toolkit.fluxcd.io/v1) and nothing publishes one; release the chart from a HelmChart (spec.chart or chartRef) or an OCIRepository",
      { reason: HelmReleaseReasons.InitFailed },
    );
  }
  if (obj.spec.chartRef && obj.spec.chartRef.kind !== "HelmChart") {
    throw new StallingError(
      `spec.chartRef kind ${obj.spec.chartRef.kind} is not supported: Capstan releases charts from HelmCharts and OCIRepositories`,
      { reason: HelmReleaseReasons.InitFailed },
    );
  }
  const ref = helmChartRefOf(obj);
  if (!ref)
    throw new StallingError("either spec.chart or spec.chartRef must be set", {
      reason: HelmReleaseReasons.InitFailed,
    });
  if (o.noCrossNamespaceRefs && ref.namespace !== ns) {
    throw new StallingError(
      `can't access HelmChart '${ref.namespace}/${ref.name}', cross-namespace references have been blocked`,
      {
        reason: HelmReleaseReasons.AccessDenied,
      },
    );
  }
  const id = `${ref.namespace}/${ref.name}`;
  let chart = await ctx.client.get<HelmChartObject>({
    apiVersion: `${helmChartType.group}/${helmChartType.version}`,
    kind: "HelmChart",
    name: ref.name,
    namespace: ref.namespace,
  });
  if (obj.spec.chart) {
    // A template that moved (new source namespace) leaves its old HelmChart behind: delete it, as Flux does.
    const previous = obj.status?.helmChart;
    if (previous && previous !== id) await deleteHelmChart(ctx, previous);
    const want = helmChartFromTemplate(obj);
    // Applied only when it differs: most passes find it as the template says, and a read is cheaper than an apply.
    if (!chart || !matchesTemplate(chart, want)) {
      chart = await ctx.client.apply<HelmChartObject>(want, { fieldManager: o.fieldManager, force: true });
    }
  }
  obj.status ??= {};
  obj.status.helmChart = id;
  if (!chart) {
    throw new WaitingError(`HelmChart '${id}' not found`, {
      reason: HelmReleaseReasons.ArtifactFailed,
      requeueAfterMs: o.requeueMs,
    });
  }
  const artifact = chart.status?.artifact;
  const ready = getCondition(chart, "Ready");
  if (!artifact) {
    const why = ready?.status === "False" ? `: ${ready.message}` : "";
    throw new WaitingError(`HelmChart '${id}' is not ready${why}`, {
      reason: HelmReleaseReasons.ArtifactFailed,
      requeueAfterMs: o.requeueMs,
    });
  }
  if (chart.metadata.generation !== undefined && chart.status?.observedGeneration !== chart.metadata.generation) {
    throw new WaitingError(
      `HelmChart '${id}' is not ready: its spec changed and source-controller has not built it yet`,
      {
        reason: HelmReleaseReasons.ArtifactFailed,
        requeueAfterMs: o.requeueMs,
      },
    );
  }
  return { artifact: { url: artifact.url, digest: artifact.digest ?? "", revision: artifact.revision }, helmChart: id };
}

/** Whether the live HelmChart is what applying `want` would leave: same spec, and want's labels and annotations. */
export function matchesTemplate(live: HelmChartObject, want: HelmChartObject): boolean {
  const has = (got: Record<string, string> | undefined, need: Record<string, string> | undefined) =>
    Object.entries(need ?? {}).every(([k, v]) => got?.[k] === v);
  return (
    canonicalJson(live.spec) === canonicalJson(want.spec) &&
    has(live.metadata.labels, want.metadata.labels) &&
    has(live.metadata.annotations, want.metadata.annotations)
  );
}

export async function deleteHelmChart(ctx: ReconcileContext, id: string): Promise<void> {
  const [namespace, name] = id.split("/");
  if (!namespace || !name) return;
  await ctx.client.delete({
    apiVersion: `${helmChartType.group}/${helmChartType.version}`,
    kind: "HelmChart",
    namespace,
    name,
  });
}
