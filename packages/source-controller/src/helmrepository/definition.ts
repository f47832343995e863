// The HelmRepository reconciler definition for the runtime: conditions as Flux's source-controller declares them,
// the ordered steps, and the finalizer that removes stored artifacts. A HelmRepository of type 'oci' is a static
// object in Flux (v1.9): it is not reconciled and gets no status; HelmCharts read its spec when they pull.
import {
  HelmRepositoryConditions as Condition,
  helmRepositoryNegativeConditions,
  helmRepositoryType,
} from "@capstan/api";
import { type ReconcilerDefinition, specDuration } from "@capstan/runtime";
import { storageStep } from "../helm/storage-step.js";
import { lazyModule, lazyStep } from "../lazy.js";
import { sourceReadyEvent } from "../ready-event.js";
import type { Storage } from "../storage/storage.js";
import { type HelmRepoState, type HelmRepositoryObject, newState } from "./state.js";

// The index download and parsing (YAML) load on the first HelmRepository reconcile (lazy.ts).
const steps = lazyModule(() => import("./steps.js"));

export interface HelmRepositoryReconcilerOptions {
  storage: Storage;
  /** Largest index.yaml in bytes (--helm-index-max-size). */
  indexMaxSize: number;
}

const owned = [
  Condition.StorageOperationFailed,
  Condition.FetchFailed,
  Condition.ArtifactOutdated,
  Condition.ArtifactInStorage,
];

export function helmRepositoryReconciler(
  options: HelmRepositoryReconcilerOptions,
): ReconcilerDefinition<HelmRepositoryObject, HelmRepoState> {
  const deps = { storage: options.storage, indexMaxSize: options.indexMaxSize };
  return {
    name: "helmrepository",
    type: helmRepositoryType,
    conditions: { owned, summarize: owned, negativePolarity: helmRepositoryNegativeConditions },
    newState,
    // Flux's notify: a new artifact has its own Event; Ready's marks a recovery only (ready-event.ts).
    readyEvent: sourceReadyEvent,
    steps: [
      storageStep(options.storage),
      lazyStep("source", steps, (m) => m.reconcileSource(deps)),
      lazyStep("artifact", steps, (m) => m.reconcileArtifact(deps)),
    ],
    // Flux's GetRequeueAfter: the interval, one minute when unset.
    interval: (obj) => {
      try {
        return specDuration(obj, "interval") ?? 60_000;
      } catch {
        return 60_000;
      }
    },
    isSuspended: (obj) => obj.spec.suspend === true || obj.spec.type === "oci",
    finalize: async (_ctx, obj) => {
      await options.storage.removeAll({
        kind: helmRepositoryType.kind,
        namespace: obj.metadata.namespace ?? "default",
        name: obj.metadata.name,
      });
    },
  };
}
