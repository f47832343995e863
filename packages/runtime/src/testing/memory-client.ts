// An in-memory stand-in for the apiserver, for fast unit tests of step files and reconcilers: the subset of Client
// the reconcilers use (get, list, apply, applyStatus, mergePatch, create, delete, watch), an event recorder that
// keeps what it is given, and a way to run one reconcile or one step against them. It keeps resourceVersion,
// generation (bumped when spec changes) and deletion with finalizers as the apiserver does; it does not validate
// against schemas, does not default, and applies replace what they carry instead of tracking field managers.
// Integration tests (`*.int.test.ts`) cover the real apiserver.
import { ApiError } from "../client/errors.js";
import type {
  ApplyOptions,
  Cache,
  Client,
  EventRecorder,
  KubeObject,
  ListOptions,
  ObjectKey,
  ObjectRef,
  ResourceType,
  WatchEventType,
} from "../contracts.js";
import type { Outcome } from "../queue/workers.js";
import type { WithConditions } from "../reconcile/conditions.js";
import { createReconcileHandler } from "../reconcile/reconciler.js";
import { writeStatus } from "../reconcile/status.js";
import type { ReconcileContext, ReconcilerDefinition, StepResult } from "../reconcile/types.js";
import { createLogger, type Logger } from "../telemetry/logger.js";
import { Metrics } from "../telemetry/metrics.js";

type Listener = (type: WatchEventType, obj: KubeObject) => void;

/** Whether a resource's group/version and kind match an object's apiVersion and kind. */
function matches(type: ResourceType, obj: KubeObject): boolean {
  const apiVersion = type.group ? `${type.group}/${type.version}` : type.version;
  return obj.apiVersion === apiVersion && obj.kind === type.kind;
}

function storeKey(apiVersion: string, kind: string, namespace: string | undefined, name: string): string {
  return `${apiVersion}|${kind}|${namespace ?? ""}|${name}`;
}

const keyOf = (o: { apiVersion: string; kind: string; metadata?: { name: string; namespace?: string } }) =>
  storeKey(o.apiVersion, o.kind, o.metadata?.namespace, o.metadata?.name ?? "");

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> =
    target && typeof target === "object" && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** `k=v,k2=v2` and `k` (exists) selectors, the forms the controllers use. */
function selects(selector: string | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  return selector.split(",").every((term) => {
    const [k, v] = term.split("=", 2).map((s) => s.trim().replace(/^=/, "")) as [string, string | undefined];
    if (k.endsWith("!")) return labels?.[k.slice(0, -1)] !== v;
    return v === undefined ? labels?.[k] !== undefined : labels?.[k] === v;
  });
}

/** One recorded Event. */
export interface RecordedEvent {
  object: ObjectRef;
  type: "Normal" | "Warning";
  reason: string;
  message: string;
  annotations?: Record<string, string>;
}

/** An EventRecorder that keeps every Event in order. */
export class MemoryEventRecorder implements EventRecorder {
  readonly events: RecordedEvent[] = [];
  event: EventRecorder["event"] = (obj, type, reason, message, annotations) => {
    const { name, namespace } = obj.metadata;
    this.events.push({
      object: { apiVersion: obj.apiVersion, kind: obj.kind, name, ...(namespace ? { namespace } : {}) },
      type,
      reason,
      message,
      ...(annotations ? { annotations } : {}),
    });
  };
  reasons(): string[] {
    return this.events.map((e) => e.reason);
  }
}

/** The write requests the client received, for assertions on what a reconcile sent. */
export interface RecordedWrite {
  verb: "apply" | "applyStatus" | "mergePatch" | "create" | "delete";
  key: string;
  fieldManager?: string;
}

export class MemoryClient implements Client {
  readonly #objects = new Map<string, KubeObject>();
  readonly #types = new Map<string, ResourceType>();
  readonly #listeners = new Set<{ type: ResourceType; namespace?: string; listener: Listener }>();
  #resourceVersion = 0;
  readonly writes: RecordedWrite[] = [];

  constructor(types: readonly ResourceType[] = []) {
    for (const t of types) this.register(t);
    this.register({ group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true });
    this.register({ group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true });
  }

  /** Makes a kind known to resourceFor (a kind never registered resolves to a lower-case plural guess). */
  register(type: ResourceType): this {
    this.#types.set(`${type.group ? `${type.group}/${type.version}` : type.version}|${type.kind}`, type);
    return this;
  }

  async resourceFor(apiVersion: string, kind: string): Promise<ResourceType> {
    const known = this.#types.get(`${apiVersion}|${kind}`);
    if (known) return known;
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/", 2) : ["", apiVersion];
    return { group: group ?? "", version: version ?? "", kind, plural: `${kind.toLowerCase()}s`, namespaced: true };
  }

  /** Puts objects in place as they are (status included), as if created and status-patched earlier. */
  seed(...objects: KubeObject[]): void {
    for (const o of objects) this.#store(structuredClone(o), "ADDED");
  }

  /** The stored object (a copy), or undefined. */
  peek<T extends KubeObject = KubeObject>(ref: ObjectRef): T | undefined {
    const o = this.#objects.get(storeKey(ref.apiVersion, ref.kind, ref.namespace, ref.name));
    return o ? (structuredClone(o) as T) : undefined;
  }

  async get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T | undefined> {
    return this.peek<T>(ref);
  }

  async list<T extends KubeObject = KubeObject>(
    type: ResourceType,
    options: ListOptions = {},
  ): Promise<{ items: T[]; resourceVersion: string }> {
    const items = this.#select(type, options.namespace, options.labelSelector).map((o) => structuredClone(o) as T);
    return { items, resourceVersion: String(this.#resourceVersion) };
  }

  /** A read-only cache of one kind over the store, as an informer's would be once synced. */
  cache<T extends KubeObject = KubeObject>(type: ResourceType): Cache<T> {
    return {
      get: (key: ObjectKey) => {
        const [namespace, name] = key.includes("/") ? key.split("/", 2) : [undefined, key];
        return this.#select(type, namespace).find((o) => o.metadata.name === name) as T | undefined;
      },
      list: (namespace?: string) => this.#select(type, namespace) as T[],
    };
  }

  async apply<T extends KubeObject = KubeObject>(obj: KubeObject, options: ApplyOptions): Promise<T> {
    const key = keyOf(obj);
    this.writes.push({ verb: "apply", key, fieldManager: options.fieldManager });
    const existing = this.#objects.get(key);
    if (options.dryRun) return structuredClone({ ...existing, ...obj }) as T;
    const { status: _ignored, ...rest } = structuredClone(obj);
    const next: KubeObject = existing
      ? {
          ...existing,
          ...rest,
          metadata: { ...existing.metadata, ...rest.metadata },
        }
      : { ...rest, metadata: { ...rest.metadata, generation: 1 } };
    if (existing && JSON.stringify(existing.spec) !== JSON.stringify(next.spec)) {
      next.metadata.generation = (existing.metadata.generation ?? 0) + 1;
    }
    return this.#store(next, existing ? "MODIFIED" : "ADDED") as T;
  }

  async applyStatus<T extends KubeObject = KubeObject>(obj: KubeObject, options: ApplyOptions): Promise<T> {
    const key = keyOf(obj);
    this.writes.push({ verb: "applyStatus", key, fieldManager: options.fieldManager });
    const existing = this.#objects.get(key);
    if (!existing) throw this.#error("apply status", obj, 404, "NotFound");
    const wanted = obj.metadata.resourceVersion;
    if (wanted !== undefined && wanted !== existing.metadata.resourceVersion) {
      throw this.#error("apply status", obj, 409, "Conflict");
    }
    return this.#store({ ...existing, status: structuredClone(obj.status) }, "MODIFIED") as T;
  }

  async mergePatch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    patch: unknown,
    options?: { fieldManager?: string },
  ): Promise<T> {
    const key = storeKey(ref.apiVersion, ref.kind, ref.namespace, ref.name);
    this.writes.push({
      verb: "mergePatch",
      key,
      ...(options?.fieldManager ? { fieldManager: options.fieldManager } : {}),
    });
    const existing = this.#objects.get(key);
    if (!existing) throw this.#error("patch", ref, 404, "NotFound");
    const wanted = (patch as { metadata?: { resourceVersion?: string } } | null)?.metadata?.resourceVersion;
    if (wanted !== undefined && wanted !== existing.metadata.resourceVersion) {
      throw this.#error("patch", ref, 409, "Conflict");
    }
    const next = mergePatch(existing, patch) as KubeObject;
    if (JSON.stringify(existing.spec) !== JSON.stringify(next.spec)) {
      next.metadata.generation = (existing.metadata.generation ?? 0) + 1;
    }
    // The last finalizer of an object being deleted lets it go.
    if (next.metadata.deletionTimestamp && !next.metadata.finalizers?.length) {
      this.#objects.delete(key);
      this.#emit("DELETED", next);
      return structuredClone(next) as T;
    }
    return this.#store(next, "MODIFIED") as T;
  }

  async create<T extends KubeObject = KubeObject>(obj: KubeObject, options?: { dryRun?: boolean }): Promise<T> {
    const key = keyOf(obj);
    this.writes.push({ verb: "create", key });
    if (this.#objects.has(key)) throw this.#error("create", obj, 409, "AlreadyExists");
    if (options?.dryRun) return structuredClone(obj) as T;
    return this.#store({ ...structuredClone(obj), metadata: { ...obj.metadata, generation: 1 } }, "ADDED") as T;
  }

  /** Deletes at once, or marks the object deleted when it has finalizers (they must be removed to let it go). */
  async delete(ref: ObjectRef): Promise<boolean> {
    const key = storeKey(ref.apiVersion, ref.kind, ref.namespace, ref.name);
    this.writes.push({ verb: "delete", key });
    const existing = this.#objects.get(key);
    if (!existing) return false;
    if (existing.metadata.finalizers?.length) {
      if (!existing.metadata.deletionTimestamp) {
        const deletionTimestamp = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
        this.#store({ ...existing, metadata: { ...existing.metadata, deletionTimestamp } }, "MODIFIED");
      }
      return true;
    }
    this.#objects.delete(key);
    this.#emit("DELETED", existing);
    return true;
  }

  /** Delivers changes made after the call (no initial list, no bookmarks). */
  async watch(
    type: ResourceType,
    options: ListOptions,
    onEvent: (type: WatchEventType, obj: KubeObject) => void,
    onDone: (err?: Error) => void,
  ): Promise<{ stop(): void }> {
    const entry = { type, ...(options.namespace ? { namespace: options.namespace } : {}), listener: onEvent };
    this.#listeners.add(entry);
    let stopped = false;
    return {
      stop: () => {
        if (stopped) return;
        stopped = true;
        this.#listeners.delete(entry);
        onDone();
      },
    };
  }

  #select(type: ResourceType, namespace?: string, labelSelector?: string): KubeObject[] {
    return [...this.#objects.values()].filter(
      (o) =>
        matches(type, o) &&
        (namespace === undefined || o.metadata.namespace === namespace) &&
        selects(labelSelector, o.metadata.labels),
    );
  }

  #store(obj: KubeObject, event: WatchEventType): KubeObject {
    obj.metadata.resourceVersion = String(++this.#resourceVersion);
    obj.metadata.uid ??= `uid-${this.#resourceVersion}`;
    obj.metadata.generation ??= 1;
    this.#objects.set(keyOf(obj), obj);
    this.#emit(event, obj);
    return structuredClone(obj);
  }

  #emit(event: WatchEventType, obj: KubeObject): void {
    for (const { type, namespace, listener } of this.#listeners) {
      if (matches(type, obj) && (namespace === undefined || obj.metadata.namespace === namespace)) {
        listener(event, structuredClone(obj));
      }
    }
  }

  #error(action: string, ref: ObjectRef | KubeObject, status: number, reason: string): ApiError {
    const name = "metadata" in ref ? (ref as KubeObject).metadata.name : (ref as ObjectRef).name;
    return new ApiError(`${action} ${ref.kind}/${name}`, { status, reason, serverMessage: `${ref.kind} "${name}"` });
  }
}

export interface MemoryReconcilerOptions {
  fieldManager?: string;
  log?: Logger;
}

/**
 * Runs a reconciler definition against a MemoryClient, one key at a time, as the queue's worker would: each
 * `reconcile(key)` is one pass (finalizer, suspend, steps, end-of-pass hook, summary, status write).
 */
export function memoryReconciler<T extends WithConditions, S>(
  def: ReconcilerDefinition<T, S>,
  client: MemoryClient,
  options: MemoryReconcilerOptions = {},
): { reconcile(key: ObjectKey): Promise<Outcome>; events: MemoryEventRecorder } {
  const events = new MemoryEventRecorder();
  const handle = createReconcileHandler(def, {
    client,
    cache: client.cache<T>(def.type),
    events,
    log: options.log ?? createLogger({ level: "error" }),
    metrics: new Metrics({ defaultMetrics: false }),
    fieldManager: options.fieldManager ?? def.fieldManager ?? def.name,
  });
  return { reconcile: (key) => handle(key), events };
}

/** A ReconcileContext over a MemoryClient, for calling one step directly. */
export function memoryContext(
  client: MemoryClient,
  options: { fieldManager?: string; signal?: AbortSignal; log?: Logger; ownedConditions?: readonly string[] } = {},
): ReconcileContext & { events: MemoryEventRecorder } {
  const events = new MemoryEventRecorder();
  return {
    log: options.log ?? createLogger({ level: "error" }),
    client,
    events,
    reconcileID: "test",
    signal: options.signal ?? new AbortController().signal,
    patchStatus: async (obj) => {
      await writeStatus(client, obj, options.fieldManager ?? "test", options.ownedConditions);
    },
  };
}

/** Whether a step asked to go on (it returned nothing or `continue`). */
export function continued(result: StepResult | undefined): boolean {
  return result === undefined || result.type === "continue";
}
