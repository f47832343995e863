import type { Client, EventRecorder, Informer, KubeObject, ResourceType } from "../contracts.js";

export interface InformerOptions {
  /** Omitted: all namespaces. */
  namespace?: string;
  /** --watch-label-selector (sharding). */
  labelSelector?: string;
  /** (Capstan) What the cache keeps of each object: stripManagedFields unless the use asks for keepManagedFields. */
  transform?: <T extends KubeObject>(obj: T) => T;
}

/** How a caller uses a managed informer (Manager.informer's options). */
export interface ManagedInformerUse {
  /**
   * Leave --watch-label-selector out: for objects the controller reads but does not reconcile (Secrets, ConfigMaps,
   * another controller's kinds), which sharding labels do not select in Flux.
   */
  ignoreLabelSelector?: boolean;
  /**
   * (Capstan) Keep metadata.managedFields in the cached objects. By default the manager's informers drop them (see
   * stripManagedFields): no reconciler reads field ownership from a cache, and they are much of a cached object.
   */
  keepManagedFields?: boolean;
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

/**
 * Something the manager starts and stops with the process, beside its controllers (controller-runtime's Runnable and
 * LeaderElectionRunnable): an HTTP receiver, an event pipeline, a cache warmer.
 */
export interface Runnable {
  /** For logs ("event-pipeline"). */
  name?: string;
  /**
   * Only on the elected replica, started with the controllers' workers (default false: on every replica, once the
   * informers have synced). Without leader election, leader-only runnables start right after the others.
   */
  leaderOnly?: boolean;
  /**
   * Starts it; resolves once it runs (it must not block until stop). `signal` aborts when the process must stop now
   * (leadership lost: another replica may be running it already). A rejection stops the manager with that error.
   */
  start(signal: AbortSignal): Promise<void> | void;
  /** Stops it; resolves once stopped. Leader-only runnables stop with the controllers, before the Lease is released. */
  stop(): Promise<void> | void;
}
