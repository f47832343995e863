// A chart build, as Flux's chart.Build describes one: which chart and version, whether it was pulled as is or
// packaged here, which values files went in, and the failure reasons of Flux's chart builder (InvalidChartReference,
// ChartPullError, MetadataPatchError, ValuesFilesError, DependencyBuildError, ChartPackageError) with the condition
// each lands on (FetchFailed or BuildFailed) and whether a retry can help.
import { HelmChartConditions, HelmChartReasons } from "@capstan/api";
import { ReconcileError } from "@capstan/runtime";

export interface Build {
  name: string;
  version: string;
  /** Packaged here (values merged, version rewritten or built from a source tree) rather than pulled as is. */
  packaged: boolean;
  /** The values files merged in (those found). */
  valuesFiles: string[];
  /** The chart package; undefined when the stored artifact already is this build. */
  bytes?: Buffer;
  resolvedDependencies: number;
}

/** Flux's Build.Summary(): "pulled 'x' chart with version '1.0.0'", "packaged ... and merged values files [a b]". */
export function summary(b: Build, action: "new" | "done" = "done"): string {
  const verb = action === "new" ? "new" : b.packaged ? "packaged" : "pulled";
  const values = b.valuesFiles.length > 0 ? ` and merged values files [${b.valuesFiles.join(" ")}]` : "";
  return `${verb} '${b.name}' chart with version '${b.version}'${values}`;
}

/** Flux's reasonForBuild. */
export function reasonFor(b: Build): string {
  return b.packaged ? HelmChartReasons.ChartPackageSucceeded : HelmChartReasons.ChartPullSucceeded;
}

const summaries: Record<string, string> = {
  [HelmChartReasons.InvalidChartReference]: "invalid chart reference",
  [HelmChartReasons.ChartPullError]: "chart pull error",
  [HelmChartReasons.MetadataPatchError]: "chart metadata patch error",
  [HelmChartReasons.ValuesFilesError]: "values files merge error",
  [HelmChartReasons.DependencyBuildError]: "dependency build error",
  [HelmChartReasons.ChartPackageError]: "chart package error",
};

/** Reasons a retry cannot fix (Flux's IsPersistentBuildErrorReason): the object stalls until its spec changes. */
const persistent = new Set<string>([
  HelmChartReasons.InvalidChartReference,
  HelmChartReasons.MetadataPatchError,
  HelmChartReasons.ValuesFilesError,
]);

/** Reasons that land on BuildFailed; the others on FetchFailed (Flux's observeChartBuild). */
const onBuildFailed = new Set<string>([
  HelmChartReasons.MetadataPatchError,
  HelmChartReasons.ValuesFilesError,
  HelmChartReasons.DependencyBuildError,
  HelmChartReasons.ChartPackageError,
]);

/** A chart build failure: "<summary>: <detail>" on the condition Flux puts it on. */
export function buildError(reason: keyof typeof summaries | string, detail: string, cause?: unknown): ReconcileError {
  const prefix = summaries[reason] ?? "unknown build error";
  return new ReconcileError(`${prefix}: ${detail}`, {
    reason,
    condition: onBuildFailed.has(reason) ? HelmChartConditions.BuildFailed : HelmChartConditions.FetchFailed,
    stalling: persistent.has(reason),
    ...(cause === undefined ? {} : { cause }),
  });
}
