// The seams between the Kubernetes-facing half of the runtime (client/, informer/, leader/, events/) and the
// controller half (queue/, reconcile/, telemetry/, server/, flags/, manager). Each half is written against these
// types, so either can change its insides without touching the other.
// Changes since the first version are additive only: ListOptions.metadataOnly, the Logger interface.

/** Any Kubernetes object, as JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  managedFields?: unknown[];
  [field: string]: unknown;
}

/** What a resource is on the wire: group/version plus plural, and whether it lives in namespaces. */
export interface ResourceType {
  group: string; // "" for the core group
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

/** namespace/name, or name for cluster-scoped objects; the work queue's key. */
export type ObjectKey = string;

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface ListOptions {
  namespace?: string; // omitted: all namespaces (or cluster-scoped)
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  limit?: number;
  continue?: string;
  /**
   * Ask for PartialObjectMetadata (apiVersion meta.k8s.io/v1, kind PartialObjectMetadata, metadata only): cheap lists
   * and watches for controllers that need names, labels and resourceVersions but not specs. Added by the client half.
   */
  metadataOnly?: boolean;
}

export interface ApplyOptions {
  fieldManager: string;
  force?: boolean;
  dryRun?: boolean;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";

/**
 * Errors from the API server, decoded. `reason` is the Status reason (NotFound, Conflict, Forbidden, Invalid, Gone,
 * AlreadyExists, ...), `message` the server's message, prefixed by the client with what it was doing.
 */
export interface ApiErrorShape extends Error {
  status: number;
  reason: string;
}

/** The client that controllers and the reconcile loop use. Implemented in client/. */
export interface Client {
  /** Resolves kind+apiVersion to a resource through discovery (cached; refreshed on a miss). */
  resourceFor(apiVersion: string, kind: string): Promise<ResourceType>;
  get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T | undefined>; // undefined on 404
  list<T extends KubeObject = KubeObject>(
    type: ResourceType,
    options?: ListOptions,
  ): Promise<{ items: T[]; resourceVersion: string; continue?: string }>;
  /** Server-side apply of the whole object (application/apply-patch+yaml). */
  apply<T extends KubeObject = KubeObject>(obj: KubeObject, options: ApplyOptions): Promise<T>;
  /** Server-side apply on the status subresource. `obj` carries apiVersion, kind, metadata.name/namespace and status. */
  applyStatus<T extends KubeObject = KubeObject>(obj: KubeObject, options: ApplyOptions): Promise<T>;
  /** JSON merge patch (used for finalizers and annotations with resourceVersion preconditions). */
  mergePatch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    patch: unknown,
    options?: { fieldManager?: string },
  ): Promise<T>;
  create<T extends KubeObject = KubeObject>(
    obj: KubeObject,
    options?: { fieldManager?: string; dryRun?: boolean },
  ): Promise<T>;
  delete(ref: ObjectRef, options?: { propagationPolicy?: "Background" | "Foreground" | "Orphan" }): Promise<boolean>; // false on 404
  /** Streams watch events until the returned stop() or an error; onDone(err) is called once either way. */
  watch(
    type: ResourceType,
    options: ListOptions & { allowWatchBookmarks?: boolean; timeoutSeconds?: number },
    onEvent: (type: WatchEventType, obj: KubeObject) => void,
    onDone: (err?: Error) => void,
  ): Promise<{ stop(): void }>;
}

/**
 * A read-only view of an informer's cache. Implemented in informer/. Cached objects are deep-frozen: writing to one
 * throws a TypeError, so clone (structuredClone) before changing an object read from the cache.
 */
export interface Cache<T extends KubeObject = KubeObject> {
  get(key: ObjectKey): T | undefined;
  list(namespace?: string): T[];
}

export interface InformerHandlers<T extends KubeObject = KubeObject> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

/** List-then-watch with relist on 410, periodic resync, a watchdog and backoff. Implemented in informer/. */
export interface Informer<T extends KubeObject = KubeObject> {
  readonly cache: Cache<T>;
  addHandlers(handlers: InformerHandlers<T>): void;
  start(): Promise<void>; // resolves after the first list is in the cache (hasSynced)
  stop(): void;
  hasSynced(): boolean;
}

/**
 * The slice of a logger the Kubernetes half writes to (events that failed to post, watch restarts, leader changes).
 * A pino Logger satisfies it; so does a test's recording stub.
 */
export interface Logger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** Events for transitions, aggregated. Implemented in events/. */
export interface EventRecorder {
  event(
    obj: KubeObject,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
    annotations?: Record<string, string>,
  ): void;
}

export function objectKey(obj: { metadata: { name: string; namespace?: string } }): ObjectKey {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
}
