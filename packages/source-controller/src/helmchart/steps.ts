// The HelmChart sub-reconcilers, in Flux's order: storage, source (find the source, build or pull the chart),
// artifact (store the chart package `<name>-<version>.tgz`, revision = chart version).

import { readFile, stat } from "node:fs/promises";
import {
  HelmChartConditions as Condition,
  gitRepositoryType,
  helmChartType,
  helmRepositoryType,
  HelmChartReasons as Reason,
  SourceEventAnnotations,
} from "@capstan/api";
import {
  markReconciling,
  markTrue,
  Reasons,
  ReconcileError,
  removeCondition,
  StallingError,
  type Step,
  specDuration,
  WaitingError,
} from "@capstan/runtime";
import type { GitRepositoryObject } from "../gitrepository/state.js";
import { CredentialsError, repositoryCredentials } from "../helm/auth.js";
import { storeFile, updateSymlink } from "../helm/store.js";
import type { HelmRepositoryObject } from "../helmrepository/state.js";
import { normalizeRepositoryUrl } from "../helmrepository/steps.js";
import type { RegistryAuthCache } from "../ocirepository/auth-cache.js";
import { parseOciUrl } from "../ocirepository/reference.js";
import { scrub } from "../scrub.js";
import type { Storage } from "../storage/storage.js";
import { type Build, reasonFor, summary } from "./build.js";
import { buildLocal } from "./local.js";
import { buildOci } from "./oci.js";
import { ociRepositoryAccess } from "./oci-access.js";
import { buildRemote, resolveRemote } from "./remote.js";
import type { HelmChartObject, HelmChartState } from "./state.js";

export interface HelmChartDeps {
  storage: Storage;
  chartMaxSize: number;
  chartFileMaxSize: number;
  indexMaxSize: number;
  requeueDependencyMs: number;
  /** (Capstan) Registry challenges and tokens kept between reconciles, shared with OCIRepository; none when unset. */
  authCache?: RegistryAuthCache;
}

type ChartStep = Step<HelmChartObject, HelmChartState>;

const identity = (obj: HelmChartObject) => ({
  kind: helmChartType.kind,
  namespace: obj.metadata.namespace ?? "default",
  name: obj.metadata.name,
});

function noArtifact(obj: HelmChartObject, deps: HelmChartDeps): WaitingError {
  return new WaitingError(`no artifact available for ${obj.spec.sourceRef.kind} source '${obj.spec.sourceRef.name}'`, {
    reason: Reason.NoSourceArtifact,
    condition: Condition.FetchFailed,
    requeueAfterMs: deps.requeueDependencyMs,
  });
}

async function readStored(deps: HelmChartDeps, path: string, max: number, what: string): Promise<Buffer> {
  try {
    const abs = deps.storage.localPath(path);
    if ((await stat(abs)).size > max) throw new Error(`${what} exceeds the maximum size of ${max} bytes`);
    return await readFile(abs);
  } catch (err) {
    throw new ReconcileError(`failed to read ${what}: ${(err as Error).message}`, {
      reason: Reason.ReadOperationFailed,
      condition: Condition.FetchFailed,
      cause: err,
    });
  }
}

/** The stored artifact already is `name`@`version` for this generation: Flux's cached-chart short cut. */
function cachedCheck(obj: HelmChartObject) {
  return (name: string, version: string) => {
    const a = obj.status?.artifact;
    return (
      a !== undefined &&
      a.revision === version &&
      obj.status?.observedChartName === name &&
      obj.status?.observedGeneration === obj.metadata.generation
    );
  };
}

/** Flux's observeChartBuild for a resolved build: a different chart or version makes the artifact outdated. */
function observeNew(obj: HelmChartObject, name: string, version: string, b: Omit<Build, "name" | "version">): void {
  const artifact = obj.status?.artifact;
  if (obj.status?.observedChartName === name && artifact?.revision === version) return;
  const message = summary({ ...b, name, version }, "new");
  if (artifact) markTrue(obj, Condition.ArtifactOutdated, Reason.NewChart, message);
  markReconciling(obj, Reasons.Progressing, `building artifact: ${message}`);
}

async function fromHelmRepository(ctx: Parameters<ChartStep>[0], obj: HelmChartObject, deps: HelmChartDeps) {
  const ns = obj.metadata.namespace ?? "default";
  const repo = await ctx.client.get<HelmRepositoryObject>({
    apiVersion: helmRepositoryType.apiVersion,
    kind: helmRepositoryType.kind,
    namespace: ns,
    name: obj.spec.sourceRef.name,
  });
  if (!repo) {
    throw new ReconcileError(`failed to get source: HelmRepository '${ns}/${obj.spec.sourceRef.name}' not found`, {
      reason: Reason.SourceUnavailable,
      condition: Condition.FetchFailed,
    });
  }
  if (repo.spec.type === "oci") return fromOciHelmRepository(ctx, obj, repo, deps);
  const artifact = repo.status?.artifact;
  if (!artifact || !(await deps.storage.exists(artifact.path))) throw noArtifact(obj, deps);
  obj.status ??= {};
  obj.status.observedSourceArtifactRevision = artifact.revision;
  let credentials: Awaited<ReturnType<typeof repositoryCredentials>>;
  try {
    credentials = await repositoryCredentials(ctx.client, repo);
  } catch (err) {
    if (!(err instanceof CredentialsError)) throw err;
    throw new ReconcileError(err.message, { reason: Reason.AuthenticationFailed, condition: Condition.FetchFailed });
  }
  let repositoryUrl: string;
  try {
    repositoryUrl = normalizeRepositoryUrl(repo.spec.url);
  } catch (cause) {
    throw new StallingError("invalid Helm repository URL", {
      reason: Reason.URLInvalid,
      condition: Condition.FetchFailed,
      cause,
    });
  }
  const valuesFiles = [...(obj.spec.valuesFiles ?? [])];
  const input = {
    indexBytes: await readStored(deps, artifact.path, deps.indexMaxSize, "the repository index"),
    repositoryUrl,
    chart: obj.spec.chart,
    version: obj.spec.version,
    valuesFiles,
    ignoreMissingValuesFiles: obj.spec.ignoreMissingValuesFiles ?? false,
    generation: obj.metadata.generation ?? 0,
    credentials,
    passCredentials: repo.spec.passCredentials ?? false,
    timeoutMs: specDuration(repo, "timeout") ?? 60_000,
    limits: { chartMaxSize: deps.chartMaxSize, chartFileMaxSize: deps.chartFileMaxSize },
    cached: cachedCheck(obj),
    cachedValuesFiles: obj.status?.observedValuesFiles ?? [],
    signal: ctx.signal,
  };
  const resolved = resolveRemote(input);
  observeNew(obj, resolved.name, resolved.version, {
    packaged: valuesFiles.length > 0,
    valuesFiles,
    resolvedDependencies: 0,
  });
  return buildRemote(input);
}

/** A chart from an OCI HelmRepository: no repository artifact; the registry is asked for tags and the chart. */
async function fromOciHelmRepository(
  ctx: Parameters<ChartStep>[0],
  obj: HelmChartObject,
  repo: HelmRepositoryObject,
  deps: HelmChartDeps,
) {
  const provider = repo.spec.provider ?? "generic";
  if (provider !== "generic") {
    throw new StallingError(
      `HelmRepository provider '${provider}' is not supported by Capstan: use provider 'generic' with spec.secretRef`,
      { reason: "InvalidProviderConfiguration", condition: Condition.FetchFailed },
    );
  }
  if (obj.spec.verify) {
    throw new StallingError(
      `chart signature verification (verify.provider '${obj.spec.verify.provider}') is not supported by Capstan: remove spec.verify`,
      { reason: Reason.ChartVerificationError, condition: Condition.SourceVerified },
    );
  }
  const repositoryUrl = repo.spec.url.replace(/\/+$/, "");
  let configHost: string;
  try {
    configHost = parseOciUrl(`${repositoryUrl}/${obj.spec.chart}`).configHost;
  } catch (cause) {
    throw new StallingError(`invalid OCI registry URL: ${scrub(repo.spec.url)}`, {
      reason: Reason.URLInvalid,
      condition: Condition.FetchFailed,
      cause,
    });
  }
  let access: Awaited<ReturnType<typeof ociRepositoryAccess>>;
  try {
    access = await ociRepositoryAccess(ctx.client, repo, configHost);
  } catch (err) {
    if (!(err instanceof CredentialsError)) throw err;
    throw new ReconcileError(`failed to get credential from secret: ${err.message}`, {
      reason: Reason.AuthenticationFailed,
      condition: Condition.FetchFailed,
    });
  }
  const valuesFiles = [...(obj.spec.valuesFiles ?? [])];
  return buildOci(
    {
      repositoryUrl,
      chart: obj.spec.chart,
      version: obj.spec.version,
      valuesFiles,
      ignoreMissingValuesFiles: obj.spec.ignoreMissingValuesFiles ?? false,
      generation: obj.metadata.generation ?? 0,
      ...access,
      plainHttp: repo.spec.insecure === true,
      ...(deps.authCache ? { authCache: deps.authCache } : {}),
      timeoutMs: specDuration(repo, "timeout") ?? 60_000,
      limits: { chartMaxSize: deps.chartMaxSize, chartFileMaxSize: deps.chartFileMaxSize },
      cached: cachedCheck(obj),
      cachedValuesFiles: obj.status?.observedValuesFiles ?? [],
      signal: ctx.signal,
    },
    (name, version) =>
      observeNew(obj, name, version, { packaged: valuesFiles.length > 0, valuesFiles, resolvedDependencies: 0 }),
  );
}

async function fromGitRepository(ctx: Parameters<ChartStep>[0], obj: HelmChartObject, deps: HelmChartDeps) {
  const ns = obj.metadata.namespace ?? "default";
  const source = await ctx.client.get<GitRepositoryObject>({
    apiVersion: gitRepositoryType.apiVersion,
    kind: gitRepositoryType.kind,
    namespace: ns,
    name: obj.spec.sourceRef.name,
  });
  if (!source) {
    throw new ReconcileError(`failed to get source: GitRepository '${ns}/${obj.spec.sourceRef.name}' not found`, {
      reason: Reason.SourceUnavailable,
      condition: Condition.FetchFailed,
    });
  }
  const artifact = source.status?.artifact;
  if (!artifact || !(await deps.storage.exists(artifact.path))) throw noArtifact(obj, deps);
  obj.status ??= {};
  obj.status.observedSourceArtifactRevision = artifact.revision;
  const valuesFiles = [...(obj.spec.valuesFiles ?? [])];
  return buildLocal({
    readArtifact: () => readStored(deps, artifact.path, Number.MAX_SAFE_INTEGER, "the source artifact"),
    sourceRevision: artifact.revision,
    chart: obj.spec.chart,
    valuesFiles,
    ignoreMissingValuesFiles: obj.spec.ignoreMissingValuesFiles ?? false,
    strategyRevision: obj.spec.reconcileStrategy === "Revision",
    generation: obj.metadata.generation ?? 0,
    limits: { chartFileMaxSize: deps.chartFileMaxSize, maxTotalBytes: 10 * deps.chartMaxSize },
    cached: cachedCheck(obj),
    cachedValuesFiles: obj.status?.observedValuesFiles ?? [],
  });
}

export function reconcileSource(deps: HelmChartDeps): ChartStep {
  return async (ctx, obj, state) => {
    try {
      const kind = obj.spec.sourceRef.kind;
      if (kind === helmRepositoryType.kind) state.build = await fromHelmRepository(ctx, obj, deps);
      else if (kind === gitRepositoryType.kind) {
        state.build = await fromGitRepository(ctx, obj, deps);
        observeNew(obj, state.build.name, state.build.version, state.build);
      } else {
        throw new StallingError(`failed to get source: source kind '${kind}' is not served by Capstan`, {
          reason: Reason.UnsupportedSourceKind,
          condition: Condition.FetchFailed,
        });
      }
    } catch (err) {
      // A failure is on one of FetchFailed and BuildFailed: the other is stale (Flux's observeChartBuild).
      if (err instanceof ReconcileError && err.condition === Condition.BuildFailed) {
        removeCondition(obj, Condition.FetchFailed);
      } else if (err instanceof ReconcileError && err.condition === Condition.FetchFailed) {
        removeCondition(obj, Condition.BuildFailed);
      }
      throw err;
    }
    removeCondition(obj, Condition.FetchFailed);
    removeCondition(obj, Condition.BuildFailed);
    if (state.build.resolvedDependencies > 0) {
      ctx.log.info({ dependencies: state.build.resolvedDependencies }, "resolved chart dependencies");
    }
  };
}

function markStored(obj: HelmChartObject, b: Build): void {
  removeCondition(obj, Condition.ArtifactOutdated);
  markTrue(obj, Condition.ArtifactInStorage, reasonFor(b), summary(b));
}

export function reconcileArtifact(deps: HelmChartDeps): ChartStep {
  return async (ctx, obj, state) => {
    const b = state.build;
    if (!b) throw new ReconcileError("no chart build to store", { reason: Reasons.ReconciliationFailed });
    const current = obj.status?.artifact;
    if (!b.bytes && current) {
      markStored(obj, b);
      await deps.storage.garbageCollect(identity(obj), current.path).catch(() => undefined);
      const url = await updateSymlink(deps.storage, current.path, "latest.tar.gz");
      if (url && obj.status) obj.status.url = url;
      return;
    }
    if (!b.bytes) throw new ReconcileError("chart build produced no package", { reason: Reasons.ReconciliationFailed });
    const path = deps.storage.artifactPath(identity(obj), `${b.name}-${b.version}.tgz`);
    const stored = await storeFile(deps.storage, path, b.bytes);
    obj.status ??= {};
    obj.status.artifact = {
      path,
      url: deps.storage.url(path),
      revision: b.version,
      digest: stored.digest,
      lastUpdateTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      size: stored.size,
    };
    obj.status.observedChartName = b.name;
    if (b.valuesFiles.length > 0) obj.status.observedValuesFiles = [...b.valuesFiles];
    else delete obj.status.observedValuesFiles;
    markStored(obj, b);
    if (state.previousDigest !== stored.digest) {
      ctx.events.event(obj, "Normal", reasonFor(b), summary(b), {
        [SourceEventAnnotations.Revision]: b.version,
        [SourceEventAnnotations.Digest]: stored.digest,
      });
    }
    await deps.storage.garbageCollect(identity(obj), path).catch((err: unknown) => {
      ctx.log.info({ err: { message: (err as Error).message } }, "garbage collection of old artifacts failed");
    });
    const url = await updateSymlink(deps.storage, path, "latest.tar.gz");
    if (url) obj.status.url = url;
  };
}
