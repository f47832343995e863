// A chart from an HTTP(S) HelmRepository (Flux's RemoteBuilder): the version the range selects in the repository's
// stored index, downloaded from the URL the index names (resolved against the repository URL when relative), bounded
// by --helm-chart-max-size, loaded to check it is a chart, and used as is unless values files must be merged (then
// repackaged with the merged values.yaml and version `<version>+<generation>`).
import { HelmChartReasons as Reason } from "@capstan/api";
import semver from "semver";
import { ArchiveError } from "../helm/archive.js";
import type { RepositoryCredentials } from "../helm/auth.js";
import {
  type Chart,
  ChartError,
  loadChartArchive,
  mergeMaps,
  packageChart,
  parseValues,
  setChartValues,
  setChartVersion,
} from "../helm/chart.js";
import { HelmFetchError, httpGet } from "../helm/http.js";
import { IndexError, parseIndex, type RepoIndex, selectChartVersion } from "../helm/repo-index.js";
import { scrub } from "../scrub.js";
import { type Build, buildError } from "./build.js";

/** What every chart build takes, from an HTTP(S) or an OCI HelmRepository alike. */
export interface ChartBuildInput {
  chart: string;
  version: string | undefined;
  valuesFiles: string[];
  ignoreMissingValuesFiles: boolean;
  generation: number;
  timeoutMs: number;
  limits: { chartMaxSize: number; chartFileMaxSize: number };
  /** The stored artifact is this name and version: nothing to download. */
  cached: (name: string, version: string) => boolean;
  /** The values files the cached artifact was built with (status.observedValuesFiles): Flux reports these, not the spec's. */
  cachedValuesFiles?: string[];
  signal?: AbortSignal;
}

export interface RemoteBuildInput extends ChartBuildInput {
  /** The repository's stored index (JSON or YAML). */
  indexBytes: Buffer;
  /** The repository URL, normalized with a trailing slash. */
  repositoryUrl: string;
  credentials: RepositoryCredentials;
  passCredentials: boolean;
}

/** Flux sets the generation as build metadata when values files are merged, so consumers see a values change as a new
 * version: `<version>+<generation>` (replacing any build metadata the version had). */
export function withGeneration(version: string, generation: number): string {
  const parsed = semver.parse(version, { loose: true });
  const core = parsed
    ? `${parsed.major}.${parsed.minor}.${parsed.patch}${parsed.prerelease.length ? `-${parsed.prerelease.join(".")}` : ""}`
    : version;
  return `${core}+${generation}`;
}

/** Resolves the version the build will produce, before anything is downloaded. */
export function resolveRemote(input: RemoteBuildInput): {
  index: RepoIndex;
  name: string;
  version: string;
  url: string;
} {
  let index: RepoIndex;
  try {
    index = parseIndex(input.indexBytes);
  } catch (err) {
    throw buildError(Reason.ChartPullError, `failed to load the repository index: ${(err as Error).message}`, err);
  }
  let entry: ReturnType<typeof selectChartVersion>;
  try {
    entry = selectChartVersion(index, input.chart, input.version);
  } catch (err) {
    const message = err instanceof IndexError ? err.message : String(err);
    throw buildError(Reason.InvalidChartReference, `failed to get chart version for remote reference: ${message}`, err);
  }
  const version = input.valuesFiles.length > 0 ? withGeneration(entry.version, input.generation) : entry.version;
  const url = new URL(entry.urls[0] ?? "", input.repositoryUrl).toString();
  return { index, name: entry.name, version, url };
}

export async function buildRemote(input: RemoteBuildInput): Promise<Build> {
  const { name, version, url } = resolveRemote(input);
  const packaged = input.valuesFiles.length > 0;
  if (input.cached(name, version)) {
    return {
      name,
      version,
      packaged,
      valuesFiles: input.cachedValuesFiles ?? input.valuesFiles,
      resolvedDependencies: 0,
    };
  }
  let bytes: Buffer;
  try {
    bytes = await httpGet(url, {
      ...input.credentials,
      timeoutMs: input.timeoutMs,
      maxBytes: input.limits.chartMaxSize,
      authHost: new URL(input.repositoryUrl).host,
      passCredentials: input.passCredentials,
      ...(input.signal ? { signal: input.signal } : {}),
    });
  } catch (err) {
    const message = err instanceof HelmFetchError ? err.message : String(err);
    throw buildError(
      Reason.ChartPullError,
      scrub(`failed to download chart for remote reference: ${message}`, input.credentials.secrets),
      err,
    );
  }
  return finishPulledChart(bytes, { ...input, name, version });
}

/** What a pulled chart package becomes (shared by HTTP and OCI repositories): checked to be a chart, then used as is,
 * or repackaged with the merged values files and the version given. */
export interface PulledChartInput {
  name: string;
  version: string;
  valuesFiles: string[];
  ignoreMissingValuesFiles: boolean;
  limits: { chartMaxSize: number; chartFileMaxSize: number };
}

export async function finishPulledChart(bytes: Buffer, input: PulledChartInput): Promise<Build> {
  const { name, version } = input;
  const packaged = input.valuesFiles.length > 0;
  let chart: Chart;
  try {
    chart = await loadChartArchive(bytes, {
      maxFileBytes: input.limits.chartFileMaxSize,
      maxTotalBytes: 10 * input.limits.chartMaxSize,
    });
  } catch (err) {
    if (!(err instanceof ChartError || err instanceof ArchiveError)) throw err;
    throw buildError(Reason.ChartPullError, `downloaded file is not a valid chart: ${err.message}`, err);
  }
  if (!packaged) return { name, version, packaged, valuesFiles: [], bytes, resolvedDependencies: 0 };

  const found: string[] = [];
  let values: Record<string, unknown> = {};
  for (const path of input.valuesFiles) {
    const content = chart.files.get(path.replace(/^\.\//, ""));
    if (!content) {
      if (input.ignoreMissingValuesFiles) continue;
      throw buildError(Reason.ValuesFilesError, `no values file found at path '${path}'`);
    }
    try {
      values = mergeMaps(values, parseValues(content, path));
    } catch (err) {
      throw buildError(Reason.ValuesFilesError, (err as Error).message, err);
    }
    found.push(path);
  }
  try {
    chart = setChartVersion(chart, version);
  } catch (err) {
    throw buildError(Reason.MetadataPatchError, (err as Error).message, err);
  }
  chart = setChartValues(chart, values);
  const packagedBytes = await packageChart(chart).catch((err: unknown) => {
    throw buildError(Reason.ChartPackageError, (err as Error).message, err);
  });
  return { name: chart.name, version, packaged, valuesFiles: found, bytes: packagedBytes, resolvedDependencies: 0 };
}
