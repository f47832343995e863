// The GitRepository reconciler definition for the runtime: conditions as Flux's source-controller declares them,
// the ordered steps, the finalizer that removes stored artifacts, and the watch that re-runs includers.
import { gitRepositoryType } from "@capstan/api";
import type { ReconcilerDefinition } from "@capstan/runtime";
import { objectKey } from "@capstan/runtime";
import type { Storage } from "../storage/storage.js";
import { type GitRepoState, type GitRepositoryObject, newState } from "./state.js";
import {
  Condition,
  cleaningUp,
  reconcileArtifact,
  reconcileInclude,
  reconcileSource,
  reconcileStorage,
} from "./steps.js";

export interface GitRepositoryReconcilerOptions {
  storage: Storage;
  artifactMaxSize?: number;
  requeueDependencyMs?: number;
}

const owned = [
  Condition.StorageOperationFailed,
  Condition.FetchFailed,
  Condition.BuildFailed,
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
  };
  return {
    name: "gitrepository",
    type: gitRepositoryType,
    conditions: {
      owned,
      summarize: owned,
      negativePolarity: [
        Condition.StorageOperationFailed,
        Condition.FetchFailed,
        Condition.BuildFailed,
        Condition.IncludeUnavailable,
        Condition.ArtifactOutdated,
      ],
    },
    newState,
    steps: [
      cleaningUp(reconcileStorage(deps)),
      cleaningUp(reconcileSource(deps)),
      cleaningUp(reconcileInclude(deps)),
      reconcileArtifact(deps),
    ],
    finalize: async (_ctx, obj) => {
      await options.storage.removeAll({
        kind: gitRepositoryType.kind,
        namespace: obj.metadata.namespace ?? "default",
        name: obj.metadata.name,
      });
    },
    watches: [
      {
        type: gitRepositoryType,
        // A GitRepository that others include re-runs them when its artifact changes.
        map: (included, own) =>
          own
            .list(included.metadata.namespace)
            .filter((o) =>
              (o as GitRepositoryObject).spec?.include?.some((i) => i.repository.name === included.metadata.name),
            )
            .map((o) => objectKey(o)),
        shouldEnqueue: (a, b) =>
          (a as GitRepositoryObject).status?.artifact?.revision !==
            (b as GitRepositoryObject).status?.artifact?.revision ||
          (a as GitRepositoryObject).status?.artifact?.digest !== (b as GitRepositoryObject).status?.artifact?.digest,
      },
    ],
  };
}
