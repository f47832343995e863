export { leaseElector } from "./lease-elector.js";
export { leaseName, Manager, type ManagerOptions } from "./manager.js";
export type {
  Elector,
  ElectorFactory,
  EventRecorderFactory,
  InformerFactory,
  InformerOptions as ManagedInformerOptions,
  LeaderCallbacks,
  LeaderElectionConfig,
  ManagedInformerUse,
  Runnable,
} from "./types.js";
