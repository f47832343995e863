// A chart packaged from a directory of a GitRepository's artifact (Flux's LocalBuilder). Paths (spec.chart,
// valuesFiles, file:// dependencies) are resolved inside the artifact and may not climb out of it; the artifact holds
// no symlinks (the GitRepository archive drops them), so resolving the path text is resolving it as the kernel
// would. Values files, relative to the source root, are merged in order and replace values.yaml; with strategy
// Revision the version gets the first 12 hex digits of the commit as build metadata, and with values files the
// generation too (`1.2.3+<commit>.<generation>`). Dependencies must be in the source: vendored under charts/, or
// file:// paths to other chart directories of the source.
import { posix } from "node:path";
import { HelmChartReasons as Reason } from "@capstan/api";
import semver from "semver";
import { ArchiveError, readTarGz } from "../helm/archive.js";
import {
  addDependency,
  type Chart,
  chartFilesFromSource,
  chartFromFiles,
  mergeMaps,
  packageChart,
  parseValues,
  setChartValues,
  setChartVersion,
} from "../helm/chart.js";
import { type Build, buildError } from "./build.js";

export interface LocalBuildInput {
  /** Reads the source artifact (a tar.gz). */
  readArtifact: () => Promise<Buffer>;
  /** The source artifact's revision, e.g. main@sha1:<hex>. */
  sourceRevision: string;
  chart: string;
  valuesFiles: string[];
  ignoreMissingValuesFiles: boolean;
  strategyRevision: boolean;
  generation: number;
  limits: { chartFileMaxSize: number; maxTotalBytes: number };
  cached: (name: string, version: string) => boolean;
  /** The values files the cached artifact was built with (status.observedValuesFiles): Flux reports these, not the spec's. */
  cachedValuesFiles?: string[];
}

/** A path inside the source, normalized; undefined when it climbs out. Absolute paths are taken from the root. */
export function sourcePath(path: string): string | undefined {
  const n = posix.normalize(`./${path.replace(/^\/+/, "")}`).replace(/\/+$/, "");
  if (n === ".." || n.startsWith("../")) return undefined;
  return n === "." ? "" : n;
}

function under(dir: string, path: string): boolean {
  return dir === "" || path === dir || path.startsWith(`${dir}/`);
}

/** The short commit of a revision: Flux's ExtractHashFromRevision, first 12 hex digits. */
export function shortCommit(revision: string): string {
  const hash = revision.includes(":")
    ? revision.slice(revision.lastIndexOf(":") + 1)
    : (revision.split("@").pop() ?? "");
  return hash.slice(0, 12);
}

function withMetadata(version: string, metadata: string): string {
  const parsed = semver.parse(version, { loose: true });
  const core = parsed
    ? `${parsed.major}.${parsed.minor}.${parsed.patch}${parsed.prerelease.length ? `-${parsed.prerelease.join(".")}` : ""}`
    : version.split("+")[0];
  return `${core}+${metadata}`;
}

export async function buildLocal(input: LocalBuildInput): Promise<Build> {
  const chartDir = sourcePath(input.chart);
  if (chartDir === undefined) {
    throw buildError(
      Reason.InvalidChartReference,
      `path '${input.chart}' is outside the source: it must stay inside the source artifact`,
    );
  }
  const values: string[] = [];
  for (const v of input.valuesFiles) {
    const p = sourcePath(v);
    if (p === undefined) {
      throw buildError(
        Reason.ValuesFilesError,
        `values file path '${v}' is outside the source: it must stay inside the source artifact`,
      );
    }
    values.push(p);
  }
  const read = async (keep: (path: string) => boolean) => {
    try {
      return await readTarGz(await input.readArtifact(), {
        maxFileBytes: input.limits.chartFileMaxSize,
        maxTotalBytes: input.limits.maxTotalBytes,
        keep,
      });
    } catch (err) {
      if (!(err instanceof ArchiveError)) throw err;
      throw buildError(Reason.ChartPullError, `failed to read the source artifact: ${err.message}`, err);
    }
  };
  const files = await read((p) => under(chartDir, p) || values.includes(p));
  const chartFiles = chartFilesFromSource(files, chartDir);
  if (!chartFiles.has("Chart.yaml")) {
    throw buildError(
      Reason.InvalidChartReference,
      `no chart found at path '${input.chart}' in the source (no Chart.yaml)`,
    );
  }
  let chart: Chart;
  try {
    chart = chartFromFiles(chartFiles);
  } catch (err) {
    throw buildError(
      Reason.ChartPackageError,
      `failed to load chart at '${input.chart}': ${(err as Error).message}`,
      err,
    );
  }

  const metadata: string[] = [];
  if (input.strategyRevision) metadata.push(shortCommit(input.sourceRevision));
  if (input.valuesFiles.length > 0) metadata.push(String(input.generation));
  const version = metadata.length > 0 ? withMetadata(chart.version, metadata.join(".")) : chart.version;
  const packaged = true;
  if (input.cached(chart.name, version)) {
    return {
      name: chart.name,
      version,
      packaged,
      valuesFiles: input.cachedValuesFiles ?? input.valuesFiles,
      resolvedDependencies: 0,
    };
  }

  let merged: Record<string, unknown> = {};
  const found: string[] = [];
  input.valuesFiles.forEach((original, i) => {
    const content = files.get(values[i] ?? "");
    if (!content) {
      if (input.ignoreMissingValuesFiles) return;
      throw buildError(Reason.ValuesFilesError, `no values file found at path '${original}'`);
    }
    try {
      merged = mergeMaps(merged, parseValues(content, original));
    } catch (err) {
      throw buildError(Reason.ValuesFilesError, (err as Error).message, err);
    }
    found.push(original);
  });

  const { chart: withDeps, resolved } = await addLocalDependencies(chart, chartDir, read);
  chart = withDeps;
  if (version !== chart.version) {
    try {
      chart = setChartVersion(chart, version);
    } catch (err) {
      throw buildError(Reason.MetadataPatchError, (err as Error).message, err);
    }
  }
  if (input.valuesFiles.length > 0) chart = setChartValues(chart, merged);
  let bytes: Buffer;
  try {
    bytes = await packageChart(chart);
  } catch (err) {
    throw buildError(Reason.ChartPackageError, (err as Error).message, err);
  }
  return { name: chart.name, version, packaged, valuesFiles: found, bytes, resolvedDependencies: resolved };
}

/** Adds each dependency not vendored under charts/ from its file:// path in the source. */
async function addLocalDependencies(
  chart: Chart,
  chartDir: string,
  read: (keep: (path: string) => boolean) => Promise<Map<string, Buffer>>,
): Promise<{ chart: Chart; resolved: number }> {
  const vendored = (name: string) =>
    chart.files.has(`charts/${name}/Chart.yaml`) ||
    [...chart.files.keys()].some((p) => p.startsWith(`charts/${name}-`) && p.endsWith(".tgz"));
  let out = chart;
  let resolved = 0;
  for (const dep of chart.dependencies) {
    if (vendored(dep.name)) continue;
    const repo = dep.repository ?? "";
    if (!repo.startsWith("file://")) {
      throw buildError(
        Reason.DependencyBuildError,
        `dependency '${dep.name}' from repository '${repo}' is not in the source: Capstan packages dependencies vendored under charts/ or referenced with file:// paths inside the source; remote dependencies are not supported yet`,
      );
    }
    const dir = sourcePath(posix.join(chartDir, repo.slice("file://".length)));
    if (dir === undefined) {
      throw buildError(Reason.DependencyBuildError, `dependency '${dep.name}': path '${repo}' is outside the source`);
    }
    const files = chartFilesFromSource(await read((p) => under(dir, p)), dir);
    let depChart: Chart;
    try {
      depChart = chartFromFiles(files);
    } catch (err) {
      throw buildError(
        Reason.DependencyBuildError,
        `dependency '${dep.name}' at '${repo}': ${(err as Error).message}`,
        err,
      );
    }
    if (
      dep.version &&
      !semver.satisfies(depChart.version, dep.version.replace(/\s*,\s*/g, " "), {
        loose: true,
        includePrerelease: true,
      })
    ) {
      throw buildError(
        Reason.DependencyBuildError,
        `can't get a valid version for dependency '${dep.name}': '${depChart.version}' does not match '${dep.version}'`,
      );
    }
    out = addDependency(out, depChart, depChart.name);
    resolved++;
  }
  return { chart: out, resolved };
}
