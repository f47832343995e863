// @capstan/kustomize-controller: the Kustomization reconciler and the engines it is built from.
export { type Action, type ChangeSetEntry, changeLog, hasChanged } from "./apply/changeset.js";
export type { IgnoreRule } from "./apply/diff.js";
export {
  ApplyEngine,
  type ApplyEngineOptions,
  type ApplyOptions,
  ApplySetError,
  type DeleteOptions,
} from "./apply/engine.js";
export { kustomizeApplyOptions, pruneExclusions } from "./apply/options.js";
export {
  controllerName,
  type KustomizeController,
  type KustomizeControllerOptions,
  registerKustomizeController,
} from "./controller.js";
export { type FingerprintOptions, fingerprint, mayHaveDrifted } from "./drift/fingerprint.js";
export { InventoryIndex } from "./drift/inventory-index.js";
export { SelfWrites } from "./drift/self-writes.js";
export { type ApplyFacts, ApplyShortcut } from "./drift/shortcut.js";
export { type DriftView, DriftWatcher, type DriftWatcherOptions } from "./drift/watcher.js";
export { type Artifact, ArtifactFetcher, type FetcherOptions } from "./fetch/fetcher.js";
export { CacheJanitor, type CacheJanitorOptions } from "./fetch/janitor.js";
export { enabledGates, kustomizeControllerFlags } from "./flags.js";
export { compileExprs, evaluateExprs } from "./health/cel.js";
export { computeStatus, type Status, type StatusResult } from "./health/kstatus.js";
export { compareVersions, PreferredVersions } from "./health/preferred.js";
export { type WaitOptions, waitForSet } from "./health/wait.js";
export {
  formatId,
  type Inventory,
  type InventoryEntry,
  inventoryOf,
  parseId,
  staleEntries,
} from "./inventory/inventory.js";
export { type KustomizationReconcilerDeps, kustomizationReconciler } from "./kustomization/reconciler.js";
export type { GroupKind } from "./object.js";
export { type BuildInput, buildManifests } from "./render/build.js";
export { envsubst, SubstitutionError, VariableNotSetError } from "./render/envsubst.js";
export type { OverlaySpec } from "./render/overlay.js";
export { substituteObjects } from "./render/substitute.js";
export { loadVariables } from "./render/variables.js";
