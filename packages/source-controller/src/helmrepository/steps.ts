// The HelmRepository sub-reconcilers, in Flux's order: storage, source (fetch and validate index.yaml), artifact
// (store the index as JSON). The revision is the SHA-256 digest of the index as served ("sha256:<hex>"), the
// artifact `index-<hex>.yaml`, as Flux's source-controller writes them.
import { createHash } from "node:crypto";
import {
  HelmRepositoryConditions as Condition,
  helmRepositoryType,
  HelmRepositoryReasons as Reason,
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
} from "@capstan/runtime";
import { CredentialsError, repositoryCredentials } from "../helm/auth.js";
import { HelmFetchError, httpGet } from "../helm/http.js";
import { IndexError, parseIndex } from "../helm/repo-index.js";
import { humanSize, storeFile, updateSymlink } from "../helm/store.js";
import { scrub } from "../scrub.js";
import type { Storage } from "../storage/storage.js";
import type { HelmRepoState, HelmRepositoryObject } from "./state.js";

export interface HelmRepoDeps {
  storage: Storage;
  /** --helm-index-max-size. */
  indexMaxSize: number;
}

type RepoStep = Step<HelmRepositoryObject, HelmRepoState>;

const identity = (obj: HelmRepositoryObject) => ({
  kind: helmRepositoryType.kind,
  namespace: obj.metadata.namespace ?? "default",
  name: obj.metadata.name,
});

/** Flux's repository.NormalizeURL for http(s): exactly one trailing slash. */
export function normalizeRepositoryUrl(raw: string): string {
  const url = new URL(raw);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/`;
  return url.toString();
}

const fetchFailed = (reason: string, message: string, options: { stalling?: boolean; cause?: unknown } = {}) =>
  options.stalling
    ? new StallingError(message, { reason, condition: Condition.FetchFailed, cause: options.cause })
    : new ReconcileError(message, { reason, condition: Condition.FetchFailed, cause: options.cause });

export function reconcileSource(deps: HelmRepoDeps): RepoStep {
  return async (ctx, obj, state) => {
    if (obj.spec.url.startsWith("oci://")) {
      throw fetchFailed(
        Reason.URLInvalid,
        "invalid Helm repository URL: 'oci' URL scheme cannot be used with 'default' HelmRepository type",
        { stalling: true },
      );
    }
    let url: string;
    try {
      url = normalizeRepositoryUrl(obj.spec.url);
    } catch (cause) {
      throw fetchFailed(Reason.URLInvalid, `invalid Helm repository URL: ${scrub(obj.spec.url)}`, {
        stalling: true,
        cause,
      });
    }
    state.url = url;
    let creds: Awaited<ReturnType<typeof repositoryCredentials>>;
    try {
      creds = await repositoryCredentials(ctx.client, obj);
    } catch (err) {
      if (!(err instanceof CredentialsError)) throw err;
      throw fetchFailed(Reason.AuthenticationFailed, err.message, { cause: err });
    }
    let bytes: Buffer;
    try {
      bytes = await httpGet(new URL("index.yaml", url).toString(), {
        ...creds,
        timeoutMs: specDuration(obj, "timeout") ?? 60_000,
        maxBytes: deps.indexMaxSize,
        authHost: new URL(url).host,
        passCredentials: obj.spec.passCredentials ?? false,
        signal: ctx.signal,
      });
    } catch (err) {
      const message = err instanceof HelmFetchError ? err.message : String(err);
      throw fetchFailed(Reason.Failed, scrub(`failed to fetch Helm repository index: ${message}`, creds.secrets), {
        cause: err,
      });
    }
    state.revision = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    state.size = bytes.length;
    const artifact = obj.status?.artifact;
    if (artifact?.revision === state.revision) {
      state.upToDate = true;
      removeCondition(obj, Condition.FetchFailed);
      return;
    }
    try {
      state.index = parseIndex(bytes);
    } catch (err) {
      const message = err instanceof IndexError ? err.message : String(err);
      throw fetchFailed(Reason.IndexationFailed, `failed to load Helm repository from index YAML: ${message}`, {
        cause: err,
      });
    }
    removeCondition(obj, Condition.FetchFailed);
    const message = `new index revision '${state.revision}'`;
    if (artifact) markTrue(obj, Condition.ArtifactOutdated, Reason.NewRevision, message);
    markReconciling(obj, Reasons.Progressing, `building artifact: ${message}`);
  };
}

function markStored(obj: HelmRepositoryObject, revision: string): void {
  removeCondition(obj, Condition.ArtifactOutdated);
  markTrue(obj, Condition.ArtifactInStorage, Reasons.Succeeded, `stored artifact: revision '${revision}'`);
}

export function reconcileArtifact(deps: HelmRepoDeps): RepoStep {
  return async (ctx, obj, state) => {
    const current = obj.status?.artifact;
    if (state.upToDate && current) {
      markStored(obj, current.revision);
      await deps.storage.garbageCollect(identity(obj), current.path).catch(() => undefined);
      const url = await updateSymlink(deps.storage, current.path, "index.yaml");
      if (url && obj.status) obj.status.url = url;
      return;
    }
    const { index, revision } = state;
    if (!index || !revision) {
      throw new ReconcileError("no index to store", { reason: Reasons.ReconciliationFailed });
    }
    const path = deps.storage.artifactPath(identity(obj), `index-${revision.slice("sha256:".length)}.yaml`);
    // JSON is YAML: Flux stores the validated index as JSON, which readers load faster.
    const stored = await storeFile(deps.storage, path, Buffer.from(JSON.stringify(index, null, 2)));
    removeCondition(obj, Condition.StorageOperationFailed);
    obj.status ??= {};
    obj.status.artifact = {
      path,
      url: deps.storage.url(path),
      revision,
      digest: stored.digest,
      lastUpdateTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      size: stored.size,
    };
    markStored(obj, revision);
    if (state.previousDigest !== stored.digest) {
      const size = state.size === undefined ? "unknown size" : `size ${humanSize(stored.size)}`;
      ctx.events.event(obj, "Normal", Reason.NewArtifact, `stored fetched index of ${size} from '${state.url}'`, {
        [SourceEventAnnotations.Revision]: revision,
        [SourceEventAnnotations.Digest]: stored.digest,
      });
    }
    await deps.storage.garbageCollect(identity(obj), path).catch((err: unknown) => {
      ctx.log.info({ err: { message: (err as Error).message } }, "garbage collection of old artifacts failed");
    });
    const url = await updateSymlink(deps.storage, path, "index.yaml");
    if (url) obj.status.url = url;
  };
}
