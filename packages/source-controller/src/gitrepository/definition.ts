// The GitRepository reconciler definition for the runtime: conditions as Flux's source-controller declares them,
// the ordered steps, the finalizer that removes stored artifacts, and the watch that re-runs includers.
import { GitRepositoryConditions as Condition, gitRepositoryNegativeConditions, gitRepositoryType } from "@capstan/api";
import { namedStep, objectKey, type ReconcilerDefinition, watch } from "@capstan/runtime";
import type { GitCache } from "../git/cache.js";
import { sourceReadyEvent } from "../ready-event.js";
import type { Storage } from "../storage/storage.js";
import { ArtifactShare } from "./share.js";
import { type GitRepoState, type GitRepositoryObject, newState } from "./state.js";
import { reconcileArtifact, reconcileInclude, reconcileSource, reconcileStorage, removeScratch } from "./steps.js";

export interface GitRepositoryReconcilerOptions {
  storage: Storage;
  artifactMaxSize?: number;
  requeueDependencyMs?: number;
  /** (Capstan) The process's git object cache (git/cache.ts); without it each fetch is a fresh repository. */
  gitCache?: GitCache;
}

const owned = [
  Condition.StorageOperationFailed,
  Condition.FetchFailed,
  Condition.IncludeUnavailable,
  Condition.ArtifactOutdated,
  Condition.ArtifactInStorage,
  Condition.SourceVerified,
];

export function gitRepositoryReconciler(
  options: GitRepositoryReconcilerOptions,
): ReconcilerDefinition<GitRepositoryObject, GitRepoState> {
  const deps = {
    storage: options.storage,
    requeueDependencyMs: options.requeueDependencyMs ?? 30_000,
    ...(options.artifactMaxSize ? { artifactMaxSize: options.artifactMaxSize } : {}),
    ...(options.gitCache ? { gitCache: options.gitCache, artifactShare: new ArtifactShare() } : {}),
  };
  return {
    name: "gitrepository",
    type: gitRepositoryType,
    conditions: {
      owned,
      summarize: owned,
      negativePolarity: gitRepositoryNegativeConditions,
    },
    newState,
    // Flux's notify: a new artifact has its own Event; Ready's marks a recovery only (ready-event.ts).
    readyEvent: sourceReadyEvent,
    // Named for the reconcile trace (capstan_reconcile_step_duration_seconds{step}).
    steps: [
      namedStep("storage", reconcileStorage(deps)),
      namedStep("fetch", reconcileSource(deps)),
      namedStep("include", reconcileInclude(deps)),
      namedStep("artifact", reconcileArtifact(deps)),
    ],
    endOfPass: (_ctx, _obj, state) => removeScratch(state),
    finalize: async (_ctx, obj) => {
      await options.storage.removeAll({
        kind: gitRepositoryType.kind,
        namespace: obj.metadata.namespace ?? "default",
        name: obj.metadata.name,
      });
    },
    watches: [
      // A GitRepository that others include re-runs them when its artifact changes.
      watch<GitRepositoryObject, GitRepositoryObject>(gitRepositoryType, {
        map: (included, own) =>
          own
            .list(included.metadata.namespace)
            .filter((o) => o.spec?.include?.some((i) => i.repository.name === included.metadata.name))
            .map((o) => objectKey(o)),
        shouldEnqueue: (a, b) =>
          a.status?.artifact?.revision !== b.status?.artifact?.revision ||
          a.status?.artifact?.digest !== b.status?.artifact?.digest,
      }),
    ],
  };
}
