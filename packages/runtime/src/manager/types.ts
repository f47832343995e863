import type { Client, EventRecorder, Informer, KubeObject, ResourceType } from "../contracts.js";

export interface InformerOptions {
  /** Omitted: all namespaces. */
  namespace?: string;
  /** --watch-label-selector (sharding). */
  labelSelector?: string;
}

/** How a caller uses a managed informer (Manager.informer's options). */
export interface ManagedInformerUse {
  /**
   * Leave --watch-label-selector out: for objects the controller reads but does not reconcile (Secrets, ConfigMaps,
   * another controller's kinds), which sharding labels do not select in Flux.
   */
  ignoreLabelSelector?: boolean;
}

/** Builds an informer for a kind; the manager shares one per (type, namespace). */
export type InformerFactory = <T extends KubeObject>(
  client: Client,
  type: ResourceType,
  options: InformerOptions,
) => Informer<T>;

export type EventRecorderFactory = (client: Client, controller: string) => EventRecorder;

export interface LeaderElectionConfig {
  /** Lease name, `<controller>-leader-election` as Flux names it. */
  name: string;
  namespace: string;
  /** Holder identity: hostname_uuid, unique per process. */
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export interface LeaderCallbacks {
  onStartedLeading(): void;
  /** Leadership ended without release() (renewal failed): the process must stop reconciling at once. */
  onStoppedLeading(): void;
}

/** The manager's view of a Lease-based elector (leader/ implements it). */
export interface Elector {
  /** Starts campaigning; callbacks fire on transitions. */
  run(callbacks: LeaderCallbacks): void;
  /** Stops campaigning and, if leading, gives up the Lease so a standby takes over without waiting for expiry. */
  release(): Promise<void>;
}

export type ElectorFactory = (client: Client, config: LeaderElectionConfig) => Elector;
