// An informer: list, then watch from the list's resourceVersion, keeping a read-only cache and telling handlers what
// changed. It relists on 410 Gone (delivering only the difference), relists periodically, restarts a watch that has
// gone silent (watchdog), and backs off with jitter when the API is unreachable.

import { isGone } from "../client/errors.js";
import type {
  Client,
  Informer,
  InformerHandlers,
  KubeObject,
  Logger,
  ResourceType,
  WatchEventType,
} from "../contracts.js";
import { objectKey } from "../contracts.js";
import { Backoff, type BackoffOptions } from "./backoff.js";
import { diffSnapshot } from "./diff.js";
import { Store } from "./store.js";

export interface InformerOptions<T extends KubeObject = KubeObject> {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Cache PartialObjectMetadata instead of whole objects (names, labels, annotations, resourceVersions). */
  metadataOnly?: boolean;
  /**
   * Relist everything this often and hand every object to onUpdate (client-go resync semantics), as a safety net.
   * Default 10h (controller-runtime's SyncPeriod), jittered by up to 10%; 0 disables.
   */
  resyncPeriodMs?: number;
  /**
   * Restart a watch that delivered nothing (not even a bookmark) for this long. The apiserver sends a bookmark about
   * once a minute on an idle watch, so the default of 3 minutes means several were missed.
   */
  watchdogMs?: number;
  backoff?: BackoffOptions;
  logger?: Logger;
  /**
   * (Capstan) Applied to every object before it enters the cache or reaches a handler (controller-runtime's
   * cache TransformFunc), to keep only what readers need, e.g. stripManagedFields. It may change and return its
   * argument (a fresh object from the API, not yet shared).
   */
  transform?: (obj: T) => T;
}

/**
 * (Capstan) Drops metadata.managedFields, bookkeeping of the apiserver's field ownership that no reconciler reads from
 * a cache and that is often most of a small object's size (one entry per field manager, each listing every field it
 * owns): as controller-runtime's cache.TransformStripManagedFields.
 */
export function stripManagedFields<T extends KubeObject>(obj: T): T {
  if (obj.metadata && "managedFields" in obj.metadata) delete obj.metadata.managedFields;
  return obj;
}

/** Counters, for tests and metrics. */
export interface InformerStats {
  lists: number;
  watches: number;
  /** Relists caused by 410 Gone. */
  goneRelists: number;
  watchdogRestarts: number;
  watchErrors: number;
}

/** Hooks that let tests provoke the situations the informer must survive. */
export interface InformerTestingHooks {
  /**
   * Makes the next watch start from `resourceVersion` (default "1") and ends the current watch now. Against a server
   * that compacted that revision, this provokes a real 410 Gone.
   */
  forceStaleResourceVersion(resourceVersion?: string): void;
}

export interface KubeInformer<T extends KubeObject = KubeObject> extends Informer<T> {
  readonly type: ResourceType;
  /** The resourceVersion the cache is known to be current at. */
  lastSyncResourceVersion(): string;
  stats(): InformerStats;
  readonly testing: InformerTestingHooks;
}

type WatchOutcome = "closed" | "gone" | "error" | "watchdog" | "interrupted";

const minWatchTimeoutSeconds = 300;

export function createInformer<T extends KubeObject = KubeObject>(
  client: Client,
  type: ResourceType,
  options: InformerOptions<T> = {},
): KubeInformer<T> {
  return new InformerImpl<T>(client, type, options);
}

class InformerImpl<T extends KubeObject> implements KubeInformer<T> {
  readonly cache: Store<T>;
  readonly testing: InformerTestingHooks;
  private readonly store = new Store<T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly backoff: Backoff;
  private readonly counters: InformerStats = {
    lists: 0,
    watches: 0,
    goneRelists: 0,
    watchdogRestarts: 0,
    watchErrors: 0,
  };
  private resourceVersion = "";
  private synced = false;
  private running = false;
  private stopped = false;
  private needList = true;
  private resyncDue = false;
  private staleResourceVersion: string | undefined;
  private currentWatch: { stop(): void; interrupt(): void } | undefined;
  private wake: (() => void) | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private syncWaiters: { resolve(): void; reject(err: Error): void }[] = [];

  constructor(
    private readonly client: Client,
    readonly type: ResourceType,
    private readonly options: InformerOptions<T>,
  ) {
    this.cache = this.store;
    this.backoff = new Backoff(options.backoff);
    this.testing = {
      forceStaleResourceVersion: (rv = "1") => {
        this.staleResourceVersion = rv;
        this.currentWatch?.interrupt();
      },
    };
  }

  addHandlers(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
    // A late subscriber hears about what is already known, as with client-go's AddEventHandler.
    for (const obj of this.store.list()) this.call(handlers, "onAdd", () => handlers.onAdd?.(obj));
  }

  hasSynced(): boolean {
    return this.synced;
  }

  lastSyncResourceVersion(): string {
    return this.resourceVersion;
  }

  stats(): InformerStats {
    return { ...this.counters };
  }

  start(): Promise<void> {
    if (this.stopped) return Promise.reject(new Error(`informer for ${this.type.kind}: stopped`));
    const synced = this.synced
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => this.syncWaiters.push({ resolve, reject }));
    if (!this.running) {
      this.running = true;
      this.scheduleResync();
      void this.run();
    }
    return synced;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.resyncTimer);
    this.currentWatch?.stop();
    this.wake?.();
    for (const w of this.syncWaiters.splice(0))
      w.reject(new Error(`informer for ${this.type.kind}: stopped before sync`));
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.needList) {
        try {
          await this.relist(this.resyncDue);
          this.needList = false;
          this.resyncDue = false;
          this.backoff.reset();
        } catch (err) {
          this.log("warn", `list ${this.type.kind} failed; retrying`, err);
          await this.sleep(this.backoff.next());
          continue;
        }
      }
      const outcome = await this.watchOnce();
      if (this.stopped) break;
      if (outcome === "gone") {
        this.counters.goneRelists++;
        this.needList = true;
      } else if (outcome === "error") {
        await this.sleep(this.backoff.next());
      } else if (outcome === "watchdog") {
        this.counters.watchdogRestarts++;
      } else if (outcome === "interrupted" && this.resyncDue) {
        this.needList = true;
      }
    }
  }

  private async relist(resync: boolean): Promise<void> {
    this.counters.lists++;
    const listed = await this.client.list<T>(this.type, this.listOptions());
    if (this.stopped) return;
    const { resourceVersion } = listed;
    const transform = this.options.transform;
    const items = transform ? listed.items.map((o) => transform(o)) : listed.items;
    const diff = diffSnapshot(this.store.entries(), items, resync);
    this.resourceVersion = resourceVersion;
    for (const obj of diff.added) {
      this.store.put(obj);
      this.dispatch("ADDED", obj, undefined);
    }
    for (const u of diff.updated) {
      if (u.new !== u.old) this.store.put(u.new);
      this.dispatch("MODIFIED", u.new, u.old);
    }
    for (const obj of diff.deleted) {
      this.store.remove(objectKey(obj));
      this.dispatch("DELETED", obj, undefined);
    }
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w.resolve();
    }
  }

  private watchOnce(): Promise<WatchOutcome> {
    return new Promise<WatchOutcome>((resolve) => {
      let outcome: WatchOutcome | undefined;
      let handle: { stop(): void } | undefined;
      let watchdog: NodeJS.Timeout | undefined;
      const finish = (o: WatchOutcome) => {
        if (outcome) return;
        outcome = o;
        clearTimeout(watchdog);
        handle?.stop();
        this.currentWatch = undefined;
        resolve(o);
      };
      const watchdogMs = this.options.watchdogMs ?? 180_000;
      const feedWatchdog = () => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => {
          this.log("warn", `watch ${this.type.kind} silent for ${watchdogMs}ms; restarting it`);
          finish("watchdog");
        }, watchdogMs);
      };
      this.currentWatch = { stop: () => finish("interrupted"), interrupt: () => finish("interrupted") };
      const from = this.staleResourceVersion ?? this.resourceVersion;
      this.staleResourceVersion = undefined;
      this.counters.watches++;
      feedWatchdog();
      // Watches end on their own after 5 to 10 minutes, so that load spreads over apiservers (client-go does this).
      const timeoutSeconds = Math.floor(minWatchTimeoutSeconds * (1 + Math.random()));
      this.client
        .watch(
          this.type,
          { ...this.listOptions(), resourceVersion: from, allowWatchBookmarks: true, timeoutSeconds },
          (eventType, obj) => {
            if (outcome) return;
            feedWatchdog();
            this.backoff.reset();
            const transform = this.options.transform;
            this.apply(eventType, transform && eventType !== "BOOKMARK" ? transform(obj as T) : (obj as T));
          },
          (err) => {
            if (!err) return finish("closed");
            if (isGone(err)) {
              this.log("info", `watch ${this.type.kind} from resourceVersion ${from} expired; relisting`);
              return finish("gone");
            }
            this.counters.watchErrors++;
            this.log("warn", `watch ${this.type.kind} failed; restarting with backoff`, err);
            finish("error");
          },
        )
        .then(
          (h) => {
            handle = h;
            if (outcome) h.stop();
          },
          (err: unknown) => {
            this.counters.watchErrors++;
            this.log("warn", `watch ${this.type.kind} could not start`, err);
            finish("error");
          },
        );
    });
  }

  private apply(eventType: WatchEventType, obj: T): void {
    if (obj.metadata.resourceVersion) this.resourceVersion = obj.metadata.resourceVersion;
    if (eventType === "BOOKMARK") return;
    const key = objectKey(obj);
    const old = this.store.get(key);
    if (eventType === "DELETED") {
      if (!old) return;
      this.store.remove(key);
      this.dispatch("DELETED", obj, undefined);
      return;
    }
    // A replayed event for a version already in the cache (after a watch restart) is not news.
    if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    this.store.put(obj);
    this.dispatch(old ? "MODIFIED" : "ADDED", obj, old);
  }

  private dispatch(kind: "ADDED" | "MODIFIED" | "DELETED", obj: T, old: T | undefined): void {
    for (const h of this.handlers) {
      if (kind === "ADDED") this.call(h, "onAdd", () => h.onAdd?.(obj));
      else if (kind === "MODIFIED") this.call(h, "onUpdate", () => h.onUpdate?.(old ?? obj, obj));
      else this.call(h, "onDelete", () => h.onDelete?.(obj));
    }
  }

  private call(_h: InformerHandlers<T>, name: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      // Handlers only enqueue keys; one that throws must not stop the informer or starve the other handlers.
      this.log("error", `informer ${this.type.kind} handler ${name} threw`, err);
    }
  }

  private scheduleResync(): void {
    const period = this.options.resyncPeriodMs ?? 36_000_000;
    if (period <= 0 || this.stopped) return;
    this.resyncTimer = setTimeout(
      () => {
        this.resyncDue = true;
        this.currentWatch?.interrupt();
        this.scheduleResync();
      },
      Math.round(period * (1 + 0.1 * Math.random())),
    );
    this.resyncTimer.unref();
  }

  private listOptions() {
    return {
      ...(this.options.namespace ? { namespace: this.options.namespace } : {}),
      ...(this.options.labelSelector ? { labelSelector: this.options.labelSelector } : {}),
      ...(this.options.fieldSelector ? { fieldSelector: this.options.fieldSelector } : {}),
      ...(this.options.metadataOnly ? { metadataOnly: true } : {}),
    };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    }).finally(() => {
      this.wake = undefined;
    });
  }

  private log(level: "info" | "warn" | "error", message: string, err?: unknown): void {
    const fields: Record<string, unknown> = { kind: this.type.kind, group: this.type.group };
    if (this.options.namespace) fields.namespace = this.options.namespace;
    if (err !== undefined) fields.error = err instanceof Error ? err.message : String(err);
    this.options.logger?.[level](fields, message);
  }
}
