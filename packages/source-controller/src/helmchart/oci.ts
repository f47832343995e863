// A chart from an OCI HelmRepository (Flux's RemoteBuilder over an OCIChartRepository): the chart lives at
// `<repository url>/<chart>`, one tag per version (Helm pushes `1.0.0+meta` as tag `1.0.0_meta`). An exact version is
// pulled by its tag without listing tags; a range (default `*`) picks the highest tag that is a strict SemVer version
// within it, as Flux (through Helm's registry client) picks it. The manifest must be a Helm chart (config
// `application/vnd.cncf.helm.config.v1+json`, a `application/vnd.cncf.helm.chart.content.v1.tar+gzip` layer); the
// layer is streamed to disk within --helm-chart-max-size and checked against its digest, then used as is or
// repackaged with merged values files, exactly as a chart pulled from an HTTP repository.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HelmChartConditions, HelmChartReasons as Reason } from "@capstan/api";
import { ReconcileError } from "@capstan/runtime";
import semver from "semver";
import type { RegistryCredentials, RegistryTls } from "../ocirepository/auth.js";
import type { RegistryAuthCache } from "../ocirepository/auth-cache.js";
import { type Manifest, RegistryClient } from "../ocirepository/client.js";
import { deadline } from "../ocirepository/deadline.js";
import { OciError } from "../ocirepository/errors.js";
import { parseOciUrl } from "../ocirepository/reference.js";
import { scrub } from "../scrub.js";
import { type Build, buildError } from "./build.js";
import { type ChartBuildInput, finishPulledChart, withGeneration } from "./remote.js";

export const helmMediaTypes = {
  config: "application/vnd.cncf.helm.config.v1+json",
  chart: "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
  /** What Helm pushed before the media type above was settled; Helm still pulls it. */
  legacyChart: "application/tar+gzip",
} as const;

export interface OciChartInput extends ChartBuildInput {
  /** The HelmRepository URL, `oci://host[:port]/path`, without a trailing slash. */
  repositoryUrl: string;
  credentials?: RegistryCredentials;
  tls?: RegistryTls;
  /** spec.insecure: plain HTTP. */
  plainHttp: boolean;
  /**
   * (Capstan) The process's registry challenges and tokens, shared with OCIRepository (ocirepository/auth-cache.ts):
   * a chart whose version is listed again within a token's lifetime costs no token request.
   */
  authCache?: RegistryAuthCache;
}

/** Helm's tag spelling of a version: `+` is not allowed in OCI tags. */
export const tagOf = (version: string): string => version.replace(/\+/g, "_");

/**
 * The chart version `range` selects among `tags`, as Flux's getLastMatchingVersionOrConstraint does over the tags
 * Helm's registry client returns (strict SemVer only, `_` read as `+`): an exact tag match first, then the highest
 * version within the range. A range naming a prerelease admits prereleases (Masterminds' rule).
 */
export function selectOciVersion(tags: readonly string[], range: string | undefined): string {
  const versions = tags
    .map((t) => t.replace(/_/g, "+"))
    .filter((t) => semver.valid(t) !== null && !t.startsWith("v"))
    .map((t) => semver.parse(t) as semver.SemVer);
  if (versions.length === 0) throw new Error("unable to locate any tags in provided repository");
  const wanted = range?.trim() || "*";
  const exact = versions.find((v) => v.raw === wanted);
  if (exact) return exact.raw;
  const valid = semver.validRange(wanted, { loose: true });
  if (!valid) throw new Error(`improper constraint: ${wanted}`);
  const includePrerelease = /\d-[0-9A-Za-z]/.test(wanted);
  let best: semver.SemVer | undefined;
  for (const v of versions) {
    if (!semver.satisfies(v, valid, { loose: true, includePrerelease })) continue;
    if (!best || semver.compareBuild(v, best) > 0) best = v;
  }
  if (!best) throw new Error(`could not locate a version matching provided version string ${wanted}`);
  return best.raw;
}

/** An exact version (Flux's shortcut: pulled by its tag, no tag listing). */
const isExactVersion = (v: string | undefined): v is string => !!v && semver.valid(v) !== null && !v.startsWith("v");

function chartLayer(manifest: Manifest, reference: string) {
  const layer =
    manifest.layers.find((l) => l.mediaType === helmMediaTypes.chart) ??
    manifest.layers.find((l) => l.mediaType === helmMediaTypes.legacyChart);
  if (!layer) {
    throw buildError(
      Reason.ChartPullError,
      `failed to download chart for remote reference: manifest does not contain a layer with mediatype ${helmMediaTypes.chart}`,
    );
  }
  if (manifest.config && manifest.config.mediaType !== helmMediaTypes.config) {
    throw buildError(
      Reason.ChartPullError,
      `failed to download chart for remote reference: ${reference} is not a Helm chart (config media type '${manifest.config.mediaType.slice(0, 100)}')`,
    );
  }
  return layer;
}

/** A FetchFailed failure with the reason given (buildError decides stalling by reason; these are all retried). */
function fetchFailed(reason: string, message: string, cause?: unknown): ReconcileError {
  return new ReconcileError(message, {
    reason,
    condition: HelmChartConditions.FetchFailed,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** A registry failure as the HelmChart condition Flux reports it on: a refused login is AuthenticationFailed. */
function registryFailure(err: unknown, what: string, secrets: string[]): Error {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof OciError && (err.kind === "auth" || err.kind === "credentials")) {
    return fetchFailed(Reason.AuthenticationFailed, scrub(`failed to login to OCI registry: ${message}`, secrets), err);
  }
  return buildError(Reason.ChartPullError, scrub(`${what}: ${message}`, secrets), err);
}

/**
 * Resolves the version, reports it (`observe`, before any download: Flux's observeChartBuild), and pulls the chart
 * unless the stored artifact already is that name and version.
 */
export async function buildOci(input: OciChartInput, observe: (name: string, version: string) => void): Promise<Build> {
  let address: ReturnType<typeof parseOciUrl>;
  try {
    address = parseOciUrl(`${input.repositoryUrl}/${input.chart}`);
  } catch (err) {
    throw buildError(
      Reason.InvalidChartReference,
      `invalid chart reference '${input.chart}' in OCI repository '${input.repositoryUrl}': ${(err as Error).message}`,
      err,
    );
  }
  const secrets = input.credentials ? [input.credentials.password] : [];
  const pull = deadline(input.signal, input.timeoutMs);
  const signal = pull.signal;
  const registry = new RegistryClient({
    host: address.host,
    repository: address.repository,
    plainHttp: input.plainHttp,
    ...(input.credentials ? { credentials: input.credentials } : {}),
    ...(input.tls ? { tls: input.tls } : {}),
    ...(input.authCache ? { authCache: input.authCache } : {}),
    signal,
  });
  let tmp: string | undefined;
  try {
    let chartVersion: string;
    if (isExactVersion(input.version)) chartVersion = input.version;
    else {
      let tags: string[];
      try {
        tags = await registry.tags();
      } catch (err) {
        throw registryFailure(err, "failed to get chart version for remote reference: unable to list tags", secrets);
      }
      try {
        chartVersion = selectOciVersion(tags, input.version);
      } catch (err) {
        // Retried, not stalled as Flux stalls it: nothing watches a registry, and a tag pushed later must be found.
        throw fetchFailed(
          Reason.InvalidChartReference,
          `invalid chart reference: failed to get chart version for remote reference: ${(err as Error).message}`,
          err,
        );
      }
    }
    const version = input.valuesFiles.length > 0 ? withGeneration(chartVersion, input.generation) : chartVersion;
    observe(input.chart, version);
    if (input.cached(input.chart, version)) {
      return {
        name: input.chart,
        version,
        packaged: input.valuesFiles.length > 0,
        valuesFiles: input.cachedValuesFiles ?? input.valuesFiles,
        resolvedDependencies: 0,
      };
    }
    const reference = `${address.repository}:${tagOf(chartVersion)}`;
    let bytes: Buffer;
    try {
      const digest = await registry.resolve(tagOf(chartVersion));
      const manifest = await registry.manifest(digest);
      const layer = chartLayer(manifest, reference);
      tmp = await mkdtemp(join(tmpdir(), "capstan-helmchart-oci-"));
      await registry.downloadBlob(layer, join(tmp, "chart.tgz"), input.limits.chartMaxSize);
      bytes = await readFile(join(tmp, "chart.tgz"));
    } catch (err) {
      if (!(err instanceof OciError)) throw err;
      throw registryFailure(err, `failed to download chart for remote reference '${reference}'`, secrets);
    }
    return await finishPulledChart(bytes, { ...input, name: input.chart, version });
  } finally {
    registry.close();
    pull.dispose();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
}
