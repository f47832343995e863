export { Backoff, type BackoffOptions } from "./backoff.js";
export { diffSnapshot, type SnapshotDiff } from "./diff.js";
export {
  createInformer,
  type InformerOptions,
  type InformerStats,
  type InformerTestingHooks,
  type KubeInformer,
  stripManagedFields,
} from "./informer.js";
export { deepFreeze, Store } from "./store.js";
