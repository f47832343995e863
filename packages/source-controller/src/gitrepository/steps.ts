// The GitRepository sub-reconcilers, in Flux's order: storage, source, include, artifact. Each owns its conditions.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  GitRepositoryConditions as Condition,
  GitRepositoryReasons,
  gitRepositoryType,
  SourceEventAnnotations,
} from "@capstan/api";
import {
  markReconciling,
  markTrue,
  Reasons,
  ReconcileError,
  removeCondition,
  type Step,
  specDuration,
  traced,
  WaitingError,
} from "@capstan/runtime";
import type { GitCache } from "../git/cache.js";
import { shortMessage } from "../git/revision.js";
import type { GitSourceSpec } from "../git/source.js";
import { cacheKeyOf, checksOutCached, fetchSource, resolveSource } from "../git/source.js";
import { loadIgnoreMatcher } from "../storage/ignore.js";
import { copyArtifactToPath } from "../storage/include.js";
import type { Storage } from "../storage/storage.js";
import { normalizeMode, verifyCheckout } from "../verify/verify.js";
import { readSecret } from "./secrets.js";
import { ArtifactShare } from "./share.js";
import { contentConfigUnchanged, type GitRepoState, type GitRepositoryObject, normalizeIncludes } from "./state.js";

export interface StepDeps {
  storage: Storage;
  /** Upper bound on an artifact's compressed size in bytes (undefined: none). */
  artifactMaxSize?: number;
  /** Delay before retrying when an included GitRepository has no artifact yet (Flux's --requeue-dependency). */
  requeueDependencyMs: number;
  /** (Capstan) Shares ls-remote, fetches and objects between GitRepositories of one URL and credentials. */
  gitCache?: GitCache;
  /** (Capstan) One archive for GitRepositories of identical content (share.ts); used with gitCache. */
  artifactShare?: ArtifactShare;
}

type GitStep = Step<GitRepositoryObject, GitRepoState>;

const identity = (obj: GitRepositoryObject) => ({
  kind: gitRepositoryType.kind,
  namespace: obj.metadata.namespace ?? "default",
  name: obj.metadata.name,
});

/**
 * Storage: a recorded artifact whose file is gone, or whose bytes no longer match its digest, is dropped (and the
 * corrupt file removed) so this reconcile builds it again; the URL is refreshed (the advertised address may change).
 */
export function reconcileStorage(deps: StepDeps): GitStep {
  return async (ctx, obj, state) => {
    // As Flux does before its sub-reconcilers run: a storage failure of an earlier reconcile is forgotten, so that it
    // cannot mask (in the Ready summary) what fails now; the step that hits one again records it again.
    removeCondition(obj, Condition.StorageOperationFailed);
    const artifact = obj.status?.artifact;
    if (artifact?.digest) state.previousDigest = artifact.digest;
    let missing = false;
    if (artifact) {
      missing = !(await deps.storage.exists(artifact.path));
      const mismatch = missing ? undefined : await deps.storage.verify(artifact.path, artifact.digest);
      if (mismatch) {
        ctx.events.event(
          obj,
          "Warning",
          GitRepositoryReasons.ArtifactVerificationFailed,
          `failed to verify integrity of artifact: ${mismatch}`,
        );
        try {
          await deps.storage.remove(artifact.path);
        } catch (err) {
          throw ReconcileError.wrap(err, "failed to remove artifact after digest mismatch");
        }
        missing = true;
      }
      if (missing) delete obj.status?.artifact;
    }
    const current = obj.status?.artifact;
    if (!current) {
      removeCondition(obj, Condition.ArtifactInStorage);
      markReconciling(
        obj,
        Reasons.Progressing,
        missing ? "building artifact: disappeared from storage" : "building artifact",
      );
      return;
    }
    current.url = deps.storage.url(current.path);
    markTrue(obj, Condition.ArtifactInStorage, Reasons.Succeeded, `stored artifact for revision '${current.revision}'`);
  };
}

async function sourceSpec(
  ctx: Parameters<GitStep>[0],
  obj: GitRepositoryObject,
  deps: StepDeps,
): Promise<GitSourceSpec> {
  const ns = obj.metadata.namespace ?? "default";
  const spec: GitSourceSpec = { url: obj.spec.url };
  if (deps.gitCache) spec.cache = deps.gitCache;
  // Verification runs git verify-commit/verify-tag in the checkout: it must be a repository of its own.
  if (obj.spec.verify) spec.needsRepository = true;
  if (obj.spec.ref) spec.ref = obj.spec.ref;
  if (obj.spec.provider) spec.provider = obj.spec.provider;
  if (obj.spec.secretRef) spec.secret = await readSecret(ctx.client, ns, obj.spec.secretRef.name, "authentication");
  if (obj.spec.proxySecretRef)
    spec.proxySecret = await readSecret(ctx.client, ns, obj.spec.proxySecretRef.name, "proxy");
  spec.timeoutMs = specDuration(obj, "timeout") ?? 60_000;
  if (obj.spec.recurseSubmodules) spec.recurseSubmodules = true;
  if (obj.spec.sparseCheckout?.length) spec.sparseCheckout = obj.spec.sparseCheckout;
  return spec;
}

/** Included GitRepositories and their artifacts; missing ones make the reconcile wait (IncludeUnavailable). */
export async function resolveIncludes(
  ctx: Parameters<GitStep>[0],
  obj: GitRepositoryObject,
  state: GitRepoState,
  deps: StepDeps,
) {
  state.includes = [];
  for (const include of normalizeIncludes(obj.spec.include)) {
    const ref = {
      apiVersion: gitRepositoryType.apiVersion,
      kind: gitRepositoryType.kind,
      namespace: obj.metadata.namespace ?? "default",
      name: include.repository.name,
    };
    const included = await ctx.client.get<GitRepositoryObject>(ref);
    const artifact = included?.status?.artifact;
    if (!artifact) {
      const reason = included ? GitRepositoryReasons.NoArtifact : GitRepositoryReasons.IncludeNotFound;
      const message = included
        ? `no artifact available for include '${include.repository.name}'`
        : `could not get resource for include '${include.repository.name}': not found`;
      throw new WaitingError(message, {
        reason,
        condition: Condition.IncludeUnavailable,
        requeueAfterMs: deps.requeueDependencyMs,
      });
    }
    state.includes.push({ include, artifact });
  }
  removeCondition(obj, Condition.IncludeUnavailable);
}

/** Source: one ls-remote; a clone only when the revision or the content settings changed; then verification. */
export function reconcileSource(deps: StepDeps): GitStep {
  return async (ctx, obj, state) => {
    let spec: GitSourceSpec;
    try {
      spec = await sourceSpec(ctx, obj, deps);
      state.resolved = await resolveSource(spec, ctx.signal, ctx.requestedAt);
    } catch (err) {
      throw ReconcileError.wrap(err, "failed to checkout and determine revision");
    }
    const resolved = state.resolved;
    await resolveIncludes(ctx, obj, state, deps);
    const artifact = obj.status?.artifact;
    const verifyUnchanged =
      (obj.status?.sourceVerificationMode ?? undefined) ===
      (obj.spec.verify ? normalizeMode(obj.spec.verify.mode) : undefined);
    if (artifact?.revision === resolved.revision && contentConfigUnchanged(obj, state.includes) && verifyUnchanged) {
      state.upToDate = true;
      removeCondition(obj, Condition.FetchFailed);
      return;
    }
    if (artifact && artifact.revision !== resolved.revision) {
      const message = `new upstream revision '${resolved.revision}'`;
      markTrue(obj, Condition.ArtifactOutdated, GitRepositoryReasons.NewRevision, message);
      markReconciling(obj, Reasons.Progressing, `building artifact: ${message}`);
    }
    const shareKey = shareKeyOf(deps, spec, obj, state);
    if (shareKey && deps.artifactShare) {
      const share = deps.artifactShare;
      const dest = deps.storage.artifactPath(identity(obj), `${resolved.commit}.tar.gz`);
      const shared = await traced(ctx, "share", () => share.linkOrBegin(shareKey, deps.storage, dest));
      if ("linked" in shared) {
        state.linked = { ...shared.linked, path: dest };
        removeCondition(obj, Condition.FetchFailed);
        await verify(ctx, obj, state);
        return;
      }
      state.endShare = shared.end;
    }
    state.tmp = await mkdtemp(join(tmpdir(), "capstan-gitrepository-"));
    try {
      state.checkout = await fetchSource(spec, join(state.tmp, "checkout"), resolved, ctx.signal);
    } catch (err) {
      throw ReconcileError.wrap(err, "failed to checkout and determine revision");
    }
    removeCondition(obj, Condition.FetchFailed);
    await verify(ctx, obj, state);
  };
}

/** The ArtifactShare key when this reconcile's archive may be shared (share.ts), else undefined. */
function shareKeyOf(
  deps: StepDeps,
  spec: GitSourceSpec,
  obj: GitRepositoryObject,
  state: GitRepoState,
): string | undefined {
  const resolved = state.resolved;
  if (!deps.artifactShare || !resolved || state.includes.length > 0 || !checksOutCached(spec, resolved)) return;
  const cacheKey = cacheKeyOf(spec);
  return cacheKey ? ArtifactShare.key(cacheKey, resolved.commit, obj.spec.ignore) : undefined;
}

async function verify(ctx: Parameters<GitStep>[0], obj: GitRepositoryObject, state: GitRepoState): Promise<void> {
  const v = obj.spec.verify;
  if (!v || !state.checkout) {
    removeCondition(obj, Condition.SourceVerified);
    if (obj.status) delete obj.status.sourceVerificationMode;
    return;
  }
  try {
    const keys = await readSecret(ctx.client, obj.metadata.namespace ?? "default", v.secretRef.name, "verification");
    const message = await verifyCheckout(state.checkout, v.mode, keys);
    markTrue(obj, Condition.SourceVerified, Reasons.Succeeded, message);
    obj.status ??= {};
    obj.status.sourceVerificationMode = normalizeMode(v.mode);
  } catch (err) {
    throw ReconcileError.wrap(err, "failed to verify source");
  }
}

/** Include: copy each included artifact into the checkout at its toPath. */
export function reconcileInclude(deps: StepDeps): GitStep {
  return async (_ctx, _obj, state) => {
    if (state.upToDate || !state.checkout) return;
    for (const { include, artifact } of state.includes) {
      try {
        await copyArtifactToPath(
          deps.storage,
          artifact.path,
          include.fromPath ?? "",
          state.checkout.dir,
          include.toPath ?? include.repository.name,
        );
      } catch (err) {
        throw ReconcileError.wrap(err, `failed to copy include '${include.repository.name}'`);
      }
    }
  };
}

/** The artifact in storage is the one for `revision`: no longer outdated. */
function markStored(obj: GitRepositoryObject, revision: string): void {
  removeCondition(obj, Condition.ArtifactOutdated);
  markTrue(obj, Condition.ArtifactInStorage, Reasons.Succeeded, `stored artifact for revision '${revision}'`);
}

/** Artifact: archive the checkout, record status.artifact and the observed settings, emit NewArtifact, collect garbage. */
export function reconcileArtifact(deps: StepDeps): GitStep {
  return async (ctx, obj, state) => {
    const artifact = obj.status?.artifact;
    if (state.upToDate && artifact) {
      markStored(obj, artifact.revision);
      await deps.storage.garbageCollect(identity(obj), artifact.path).catch(() => undefined);
      return;
    }
    const built = state.linked ? linkedArtifact(state) : await buildArtifact(deps, obj, state);
    const { path, result, checkout } = built;
    removeCondition(obj, Condition.StorageOperationFailed);
    obj.status ??= {};
    obj.status.artifact = {
      path,
      url: deps.storage.url(path),
      revision: checkout.revision,
      digest: result.digest,
      lastUpdateTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      size: result.size,
    };
    recordObserved(obj, state);
    markStored(obj, checkout.revision);
    // Flux announces an artifact only when its digest is new: a rebuild of the same bytes is no news.
    if (state.previousDigest !== result.digest) {
      ctx.events.event(
        obj,
        "Normal",
        GitRepositoryReasons.NewArtifact,
        `stored artifact for commit '${shortMessage(checkout.subject)}'`,
        {
          [SourceEventAnnotations.Revision]: checkout.revision,
          [SourceEventAnnotations.Digest]: result.digest,
        },
      );
    }
    await deps.storage.garbageCollect(identity(obj), path).catch((err: unknown) => {
      ctx.log.info({ err: { message: (err as Error).message } }, "garbage collection of old artifacts failed");
    });
  };
}

interface Built {
  path: string;
  result: { digest: string; size: number };
  checkout: { revision: string; subject: string };
}

/** The artifact another GitRepository built, linked at this object's path by the source step. */
function linkedArtifact(state: GitRepoState): Built {
  const linked = state.linked as NonNullable<GitRepoState["linked"]>;
  const revision = state.resolved?.revision ?? "";
  return {
    path: linked.path,
    result: { digest: linked.digest, size: linked.size },
    checkout: { revision, subject: linked.subject },
  };
}

/** Archives the checkout into this object's artifact path, and offers it to identical GitRepositories. */
async function buildArtifact(deps: StepDeps, obj: GitRepositoryObject, state: GitRepoState): Promise<Built> {
  const checkout = state.checkout;
  // The source step either found the artifact up to date, linked one, or left a checkout (or threw).
  if (!checkout) {
    throw new ReconcileError("no checkout to build an artifact from", { reason: Reasons.ReconciliationFailed });
  }
  const path = deps.storage.artifactPath(identity(obj), `${checkout.commit}.tar.gz`);
  let result: { digest: string; size: number };
  try {
    const matcher = await loadIgnoreMatcher(checkout.dir, obj.spec.ignore);
    const options = {
      exclude: (p: string, isDir: boolean) => matcher.ignores(p, isDir),
      ...(deps.artifactMaxSize ? { maxSize: deps.artifactMaxSize } : {}),
    };
    result = await deps.storage.archive(path, checkout.dir, options);
  } catch (err) {
    throw ReconcileError.wrap(err, "failed to build artifact");
  }
  // Shared only if what was checked out is the commit the share key names (the ref may have moved since ls-remote).
  if (checkout.commit === state.resolved?.commit) {
    state.endShare?.({ path, ...result, commit: checkout.commit, subject: checkout.subject });
  }
  return { path, result, checkout };
}

function recordObserved(obj: GitRepositoryObject, state: GitRepoState): void {
  obj.status ??= {};
  const status = obj.status;
  if (obj.spec.ignore !== undefined) status.observedIgnore = obj.spec.ignore;
  else delete status.observedIgnore;
  if (obj.spec.recurseSubmodules) status.observedRecurseSubmodules = true;
  else delete status.observedRecurseSubmodules;
  const includes = normalizeIncludes(obj.spec.include);
  if (includes.length) status.observedInclude = includes;
  else delete status.observedInclude;
  if (obj.spec.sparseCheckout?.length) status.observedSparseCheckout = [...obj.spec.sparseCheckout];
  else delete status.observedSparseCheckout;
  if (state.includes.length) status.includedArtifacts = state.includes.map((i) => i.artifact);
  else delete status.includedArtifacts;
}

/** The end-of-pass hook: the scratch directory of this pass goes, whatever the steps did. */
export async function removeScratch(state: GitRepoState): Promise<void> {
  // A build announced to the share and not finished (failed, interrupted): the GitRepositories waiting build their own.
  state.endShare?.();
  if (state.tmp) await rm(state.tmp, { recursive: true, force: true });
}
