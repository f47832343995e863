// spec.chartRef kind OCIRepository, as Flux's helm-controller serves it: the OCIRepository's artifact is the chart
// (Flux expects the OCIRepository to select the Helm chart layer, `layerSelector.mediaType:
// application/vnd.cncf.helm.chart.content.v1.tar+gzip`, `operation: copy`). The artifact is downloaded from the URL
// source-controller publishes and checked against its digest; the tag of the revision (`<tag>@sha256:<hex>`) must be
// the chart's version; the chart's version gets the first 12 hex digits of the manifest digest as build metadata
// (`1.0.0+abcdef012345`), so a tag pushed again with other content is a new release; the manifest digest becomes
// status.lastAttemptedRevisionDigest. A new artifact of the OCIRepository wakes the HelmReleases released from it.
// (Capstan) The package is fetched through the chart cache, keyed by the artifact digest the OCIRepository publishes
// and verified on use, as HelmChart artifacts are; its Chart.yaml version is remembered by that digest, so a pass
// with nothing to release reads no package and one that upgrades with an unchanged artifact downloads nothing.
import { HelmReleaseReasons, helmChartType, ociRepositoryType } from "@capstan/api";
import {
  type Cache,
  Conditions,
  getCondition,
  type KubeObject,
  type ReconcileContext,
  ReconcileError,
  StallingError,
  WaitingError,
  type WithConditions,
  watch,
} from "@capstan/runtime";
import { type ChartArtifact, ChartFetchError } from "../chart/fetch.js";
import { ChartVersionError, editChartYaml, rewriteChartYaml } from "../chart/version.js";
import { ownerLabels } from "./chart-source.js";
import type { HelmChartObject, HelmReleaseObject } from "./types.js";

export interface OciChartOptions {
  noCrossNamespaceRefs: boolean;
  requeueMs: number;
  chartMaxBytes: number;
  /** Fetches the verified package (through the chart cache when there is one); throws ChartFetchError. */
  fetch: (pkg: Pick<ChartArtifact, "url" | "digest" | "revision">) => Promise<Buffer>;
  /** Chart versions of packages read before; without it every pass reads the package. */
  versions?: ChartVersionMemo;
}

/**
 * (Capstan) The Chart.yaml version of each chart package read, by the package's digest: a digest names its bytes, so
 * the version read from them never changes. A pass whose release is in sync then reads no package at all; one that
 * installs or upgrades gets it from the chart cache (verified on use) or downloads it. Bounded, least recently used
 * out first.
 */
export class ChartVersionMemo {
  readonly #versions = new Map<string, string>();
  constructor(private readonly maxEntries = 4096) {}

  get(digest: string): string | undefined {
    const v = this.#versions.get(digest);
    if (v !== undefined) {
      this.#versions.delete(digest);
      this.#versions.set(digest, v);
    }
    return v;
  }

  set(digest: string, version: string): void {
    this.#versions.delete(digest);
    this.#versions.set(digest, version);
    for (const oldest of this.#versions.keys()) {
      if (this.#versions.size <= this.maxEntries) break;
      this.#versions.delete(oldest);
    }
  }

  get size(): number {
    return this.#versions.size;
  }
}

/** The version Flux gives the chart (see versionFromRevision); a tag that is not the chart's version is ChartMutateError. */
function mutatedVersion(chartVersion: string, revision: string): { version: string; digest: string } {
  try {
    return versionFromRevision(chartVersion, revision);
  } catch (cause) {
    throw new ReconcileError((cause as Error).message, { reason: ChartMutateError, cause });
  }
}

/**
 * The package with its Chart.yaml version rewritten from the OCIRepository revision, as Flux rewrites it; the
 * version Chart.yaml stated comes back as `chartVersion`. Throws ReconcileError (ChartMutateError, ArtifactFailed).
 */
export function mutateChart(
  bytes: Buffer,
  maxBytes: number,
  revision: string,
): { content: Buffer; chartVersion: string; version: string; digest: string } {
  let mutated: { version: string; digest: string; chartVersion: string } | undefined;
  let content: Buffer;
  try {
    content = rewriteChartYaml(bytes, 10 * maxBytes, (chartYaml) => {
      const edit = editChartYaml(chartYaml);
      mutated = { ...mutatedVersion(edit.version, revision), chartVersion: edit.version };
      return edit.rewrite(mutated.version);
    });
  } catch (err) {
    if (err instanceof ReconcileError) throw err;
    if (!(err instanceof ChartVersionError)) throw err;
    throw new ReconcileError(`Could not load chart: ${err.message}`, {
      reason: HelmReleaseReasons.ArtifactFailed,
      cause: err,
    });
  }
  if (!mutated) throw new Error("internal: chart version not rewritten");
  return { content, ...mutated };
}

type OCIRepositoryObject = KubeObject &
  WithConditions & {
    metadata: { generation?: number };
    status?: { observedGeneration?: number; artifact?: { url: string; digest?: string; revision: string } };
  };

/** Flux's reason when the chart cannot be given the artifact's version. */
export const ChartMutateError = "ChartMutateError";
/** Flux's reason while the source has no usable artifact. */
export const SourceNotReady = "SourceNotReady";

interface Version {
  major: number;
  minor: number;
  patch: number;
  prerelease: string;
}

/** Masterminds' NewVersion (what Flux parses with): a leading v and missing minor/patch are accepted. */
export function parseVersion(v: string): Version | undefined {
  const m =
    /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/.exec(
      v.trim(),
    );
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2] ?? 0), patch: Number(m[3] ?? 0), prerelease: m[4] ?? "" };
}

const same = (a: Version, b: Version) =>
  a.major === b.major && a.minor === b.minor && a.patch === b.patch && a.prerelease === b.prerelease;

/** The manifest digest of an OCIRepository revision (`<tag>@sha256:<hex>` or `sha256:<hex>`). */
export function digestOf(revision: string): string {
  const at = revision.split("@");
  return at.length === 2 ? (at[1] ?? "") : at.length === 1 ? revision : "";
}

/**
 * Flux's mutateChartWithSourceRevision: the chart version with the first 12 hex digits of the manifest digest as
 * build metadata, and that digest. Throws when the revision's tag is not the chart's version.
 */
export function versionFromRevision(chartVersion: string, revision: string): { version: string; digest: string } {
  const ver = parseVersion(chartVersion);
  if (!ver) throw new Error(`chart version '${chartVersion}' is not a semantic version`);
  const parts = revision.split("@");
  let digest = revision;
  if (parts.length > 1) {
    const tag = parts[0] ?? "";
    const tagVer = parseVersion(tag);
    if (!tagVer) throw new Error(`failed parsing artifact revision ${tag}`);
    if (parts.length !== 2 || !same(tagVer, ver)) {
      throw new Error(`artifact revision ${tag} does not match chart version ${chartVersion}`);
    }
    digest = parts[1] ?? "";
  }
  const pair = digest.split(":");
  const hex = pair[1] ?? "";
  if (pair.length !== 2 || hex.length < 12) throw new Error(`invalid artifact revision ${revision}`);
  const core = `${ver.major}.${ver.minor}.${ver.patch}${ver.prerelease ? `-${ver.prerelease}` : ""}`;
  return { version: `${core}+${hex.slice(0, 12)}`, digest };
}

/** Flux's isReady for a source: reconciled at its generation, not stalled, with an artifact. */
function notReady(src: OCIRepositoryObject, id: string): string | undefined {
  if (src.metadata.generation !== undefined && src.status?.observedGeneration !== src.metadata.generation) {
    const ready = getCondition(src, Conditions.Ready);
    const why = ready?.status === "False" ? ready.message : "latest generation of object has not been reconciled";
    return `OCIRepository '${id}' is not ready: ${why}`;
  }
  const stalled = getCondition(src, Conditions.Stalled);
  if (stalled?.status === "True") return `OCIRepository '${id}' is not ready: ${stalled.message}`;
  if (!src.status?.artifact) return `OCIRepository '${id}' is not ready: does not have an artifact`;
  return undefined;
}

/** A HelmChart this HelmRelease's spec.chart once created (Flux's labels) is deleted when the release moves away. */
async function dropTemplatedChart(ctx: ReconcileContext, obj: HelmReleaseObject): Promise<void> {
  const previous = obj.status?.helmChart;
  if (!previous) return;
  const [namespace, name] = previous.split("/");
  if (namespace && name) {
    const chart = await ctx.client.get<HelmChartObject>({
      apiVersion: helmChartType.apiVersion,
      kind: helmChartType.kind,
      namespace,
      name,
    });
    const labels = chart?.metadata.labels ?? {};
    if (
      chart &&
      labels[ownerLabels.name] === obj.metadata.name &&
      labels[ownerLabels.namespace] === (obj.metadata.namespace ?? "default")
    ) {
      await ctx.client.delete({ apiVersion: helmChartType.apiVersion, kind: helmChartType.kind, namespace, name });
    }
  }
  if (obj.status) delete obj.status.helmChart;
}

/** Reads the OCIRepository, downloads and verifies its artifact, and rewrites the chart's version as Flux does. */
export async function resolveOciChart(
  ctx: ReconcileContext,
  obj: HelmReleaseObject,
  o: OciChartOptions,
): Promise<{ artifact: ChartArtifact; helmChart: string }> {
  const ref = obj.spec.chartRef;
  if (ref?.kind !== "OCIRepository") throw new Error("internal: resolveOciChart without chartRef OCIRepository");
  const ns = obj.metadata.namespace ?? "default";
  const namespace = ref.namespace ?? ns;
  const id = `${namespace}/${ref.name}`;
  if (o.noCrossNamespaceRefs && namespace !== ns) {
    throw new StallingError(`can't access OCIRepository '${id}', cross-namespace references have been blocked`, {
      reason: HelmReleaseReasons.AccessDenied,
    });
  }
  await dropTemplatedChart(ctx, obj);
  const src = await ctx.client.get<OCIRepositoryObject>({
    apiVersion: ociRepositoryType.apiVersion,
    kind: ociRepositoryType.kind,
    namespace,
    name: ref.name,
  });
  if (!src) {
    throw new ReconcileError(`could not get Source object: OCIRepository '${id}' not found`, {
      reason: HelmReleaseReasons.ArtifactFailed,
    });
  }
  const why = notReady(src, id);
  const artifact = src.status?.artifact;
  if (why || !artifact) {
    throw new WaitingError(why ?? `OCIRepository '${id}' is not ready`, {
      reason: SourceNotReady,
      requeueAfterMs: o.requeueMs,
    });
  }
  const pkg = { url: artifact.url, digest: artifact.digest ?? "", revision: artifact.revision };
  // Seen before: the version comes from memory and the package is read only if the release needs it (steps.ts).
  const known = o.versions?.get(pkg.digest);
  if (known !== undefined) {
    const mutated = mutatedVersion(known, artifact.revision);
    return {
      artifact: { ...pkg, revision: mutated.version, oci: ociOf(artifact.revision, mutated.digest, known) },
      helmChart: "",
    };
  }
  let bytes: Buffer;
  try {
    bytes = await o.fetch(pkg);
  } catch (err) {
    if (!(err instanceof ChartFetchError)) throw err;
    throw new ReconcileError(`Could not load chart: ${err.message}`, {
      reason: HelmReleaseReasons.ArtifactFailed,
      cause: err,
    });
  }
  const mutated = mutateChart(bytes, o.chartMaxBytes, artifact.revision);
  o.versions?.set(pkg.digest, mutated.chartVersion);
  return {
    artifact: {
      ...pkg,
      revision: mutated.version,
      content: mutated.content,
      oci: ociOf(artifact.revision, mutated.digest, mutated.chartVersion),
    },
    helmChart: "",
  };
}

const ociOf = (revision: string, manifestDigest: string, chartVersion: string) => ({
  revision,
  manifestDigest,
  chartVersion,
});

const keyOf = (o: { metadata: { namespace?: string; name: string } }) =>
  `${o.metadata.namespace ?? ""}/${o.metadata.name}`;

/** A new artifact (or readiness) of an OCIRepository enqueues the HelmReleases whose chartRef names it. */
export const ociRepositoryWatch = watch<HelmReleaseObject, OCIRepositoryObject>(ociRepositoryType, {
  map(src, own: Cache<HelmReleaseObject>) {
    const digest = digestOf(src.status?.artifact?.revision ?? "");
    return own
      .list()
      .filter((hr) => {
        const ref = hr.spec.chartRef;
        if (ref?.kind !== "OCIRepository" || ref.name !== src.metadata.name) return false;
        if ((ref.namespace ?? hr.metadata.namespace) !== src.metadata.namespace) return false;
        // Flux's requestsForOCIRrepositoryChange: a release already at this digest and Ready has nothing to do.
        const ready = getCondition(hr, Conditions.Ready)?.status === "True";
        return !(ready && digest !== "" && hr.status?.lastAttemptedRevisionDigest === digest);
      })
      .map(keyOf);
  },
  shouldEnqueue(oldObj, newObj) {
    const a = oldObj.status?.artifact;
    const b = newObj.status?.artifact;
    const ready = (o: OCIRepositoryObject) => getCondition(o, Conditions.Ready)?.status;
    return a?.revision !== b?.revision || a?.digest !== b?.digest || ready(oldObj) !== ready(newObj);
  },
  ignoreLabelSelector: true,
});
