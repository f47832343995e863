// The HelmChart reconciler definition for the runtime: Flux's conditions, the ordered steps, the finalizer that
// removes stored artifacts, and the watches that rebuild a chart when its HelmRepository or GitRepository has a new
// artifact (only charts that have not seen that revision yet, as Flux's requestsFor*Change do).
import {
  HelmChartConditions as Condition,
  gitRepositoryType,
  helmChartNegativeConditions,
  helmChartType,
  helmRepositoryType,
} from "@capstan/api";
import { objectKey, type ReconcilerDefinition, watch } from "@capstan/runtime";
import { storageStep } from "../helm/storage-step.js";
import { lazyModule, lazyStep } from "../lazy.js";
import { sourceReadyEvent } from "../ready-event.js";
import type { Storage } from "../storage/storage.js";
import { type HelmChartObject, type HelmChartState, newState } from "./state.js";
import type { HelmChartDeps } from "./steps.js";

// Chart fetching, packaging and the OCI client load on the first HelmChart reconcile (lazy.ts).
const steps = lazyModule(() => import("./steps.js"));

export interface HelmChartReconcilerOptions extends Omit<HelmChartDeps, "storage"> {
  storage: Storage;
}

const owned = [
  Condition.StorageOperationFailed,
  Condition.FetchFailed,
  Condition.BuildFailed,
  Condition.ArtifactOutdated,
  Condition.ArtifactInStorage,
  Condition.SourceVerified,
];

interface SourceObject {
  metadata: { name: string; namespace?: string };
  status?: { artifact?: { revision?: string; digest?: string } };
}

const sourceWatch = (kind: string, type: typeof gitRepositoryType | typeof helmRepositoryType) =>
  watch<HelmChartObject, SourceObject>(type, {
    map: (source, own) => {
      const revision = source.status?.artifact?.revision;
      if (!revision) return [];
      return own
        .list(source.metadata.namespace)
        .filter(
          (c) =>
            c.spec?.sourceRef?.kind === kind &&
            c.spec.sourceRef.name === source.metadata.name &&
            c.status?.observedSourceArtifactRevision !== revision,
        )
        .map((c) => objectKey(c));
    },
    shouldEnqueue: (a, b) =>
      a.status?.artifact?.revision !== b.status?.artifact?.revision ||
      a.status?.artifact?.digest !== b.status?.artifact?.digest,
  });

export function helmChartReconciler(
  options: HelmChartReconcilerOptions,
): ReconcilerDefinition<HelmChartObject, HelmChartState> {
  const deps: HelmChartDeps = options;
  return {
    name: "helmchart",
    type: helmChartType,
    conditions: { owned, summarize: owned, negativePolarity: helmChartNegativeConditions },
    newState,
    // Flux's notify: a new artifact has its own Event; Ready's marks a recovery only (ready-event.ts).
    readyEvent: sourceReadyEvent,
    steps: [
      storageStep(options.storage),
      lazyStep("source", steps, (m) => m.reconcileSource(deps)),
      lazyStep("artifact", steps, (m) => m.reconcileArtifact(deps)),
    ],
    finalize: async (_ctx, obj) => {
      await options.storage.removeAll({
        kind: helmChartType.kind,
        namespace: obj.metadata.namespace ?? "default",
        name: obj.metadata.name,
      });
    },
    watches: [
      sourceWatch(helmRepositoryType.kind, helmRepositoryType),
      sourceWatch(gitRepositoryType.kind, gitRepositoryType),
    ],
  };
}
