// The OCIRepository reconciler definition for the runtime: conditions as Flux's source-controller declares them, the
// ordered steps, and the finalizer that removes stored artifacts.
import { OCIRepositoryConditions as Condition, ociRepositoryNegativeConditions, ociRepositoryType } from "@capstan/api";
import type { ReconcilerDefinition } from "@capstan/runtime";
import { lazyModule, lazyStep } from "../lazy.js";
import { sourceReadyEvent } from "../ready-event.js";
import type { Storage } from "../storage/storage.js";
import { RegistryAuthCache } from "./auth-cache.js";
import { newState, type OCIRepositoryObject, type OciState } from "./state.js";

// The registry client and layer extraction load on the first OCIRepository reconcile (lazy.ts).
const steps = lazyModule(() => import("./steps.js"));

export interface OCIRepositoryReconcilerOptions {
  storage: Storage;
  /** --artifact-max-size: bounds the downloaded layer and the stored artifact; 0/undefined: the default below. */
  artifactMaxSize?: number;
  /** Bounds on an extracted layer (Capstan): total file bytes and entry count. */
  extractMaxSize?: number;
  extractMaxEntries?: number;
  /** (Capstan) Registry challenges and tokens kept between reconciles; a private one when not given. */
  authCache?: RegistryAuthCache;
}

/** Without --artifact-max-size a layer is still bounded: a hostile registry must not fill the controller's disk. */
export const defaultLayerMaxSize = 512 * 1024 * 1024;
export const defaultExtractMaxSize = 1024 * 1024 * 1024;
export const defaultExtractMaxEntries = 100_000;

const owned = [
  Condition.StorageOperationFailed,
  Condition.FetchFailed,
  Condition.ArtifactOutdated,
  Condition.ArtifactInStorage,
  Condition.SourceVerified,
];

export function ociRepositoryReconciler(
  options: OCIRepositoryReconcilerOptions,
): ReconcilerDefinition<OCIRepositoryObject, OciState> {
  const deps = {
    storage: options.storage,
    layerMaxSize: options.artifactMaxSize || defaultLayerMaxSize,
    extractMaxSize: options.extractMaxSize ?? defaultExtractMaxSize,
    extractMaxEntries: options.extractMaxEntries ?? defaultExtractMaxEntries,
    authCache: options.authCache ?? new RegistryAuthCache(),
  };
  return {
    name: "ocirepository",
    type: ociRepositoryType,
    conditions: { owned, summarize: owned, negativePolarity: ociRepositoryNegativeConditions },
    newState,
    // Flux's notify: a new artifact has its own Event; Ready's marks a recovery only (ready-event.ts).
    readyEvent: sourceReadyEvent,
    steps: [
      lazyStep("storage", steps, (m) => m.reconcileStorage(deps)),
      lazyStep("source", steps, (m) => m.reconcileSource(deps)),
      lazyStep("artifact", steps, (m) => m.reconcileArtifact(deps)),
    ],
    endOfPass: async (_ctx, _obj, state) => (await steps()).removeScratch(state),
    finalize: async (_ctx, obj) => {
      await options.storage.removeAll({
        kind: ociRepositoryType.kind,
        namespace: obj.metadata.namespace ?? "default",
        name: obj.metadata.name,
      });
    },
  };
}
