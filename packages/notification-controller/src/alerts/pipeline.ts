// From watched-object updates to provider queues, once per transition per Alert.
//
// Per Alert, two maps from object to encoded ObservedState: `seen` (what this process has already turned into
// notifications, advanced at detection so a later update does not re-detect the same step) and `durable` (what has
// been settled: delivered, given up on, filtered or collapsed; persisted to the Alert's mark). An object's durable entry
// advances only when all of its notifications in flight have settled, so a crash re-sends at most the notifications
// in flight (at-least-once), and a restart compares the first list with the durable mark, so a transition that
// happened while down is notified on start. Each notification carries an id (events/event-id.ts) that is the same
// when it is sent again after a crash, so a receiver can drop the duplicate.

import type { DeliveryOutcome, DeliveryQueues } from "../delivery/queues.js";
import { eventKey, type FluxEvent } from "../events/event.js";
import { notificationId } from "../events/event-id.js";
import { decodeState, detectTransitions, encodeState, observe } from "../events/transitions.js";
import type { WatchedObject } from "../events/watched.js";
import type { Notifier } from "../providers/notifier.js";
import { alertWatches, type CompiledAlert, messageAccepted, notificationFor, severityAccepted } from "./matching.js";
import type { EventRateLimiter } from "./ratelimit.js";
import { type AlertIdentity, type WatermarkStore, watermarkKey } from "./watermark-store.js";

export interface ProviderBinding {
  /** namespace/name: the delivery queue. */
  key: string;
  notifier: Notifier;
  secrets: readonly string[];
}

export interface AlertBinding {
  identity: AlertIdentity;
  alert: CompiledAlert;
  provider: ProviderBinding;
}

export interface NotificationRecord {
  alert: AlertIdentity;
  providerKey: string;
  event: FluxEvent;
  outcome: DeliveryOutcome;
}

export interface PipelineOptions {
  store: WatermarkStore;
  queues: DeliveryQueues;
  limiter: EventRateLimiter;
  /** Every object of every watched kind, from the informer caches (synced before the first setAlert). */
  listObjects: () => WatchedObject[];
  reportingInstance?: string;
  now?: () => Date;
  /** Marks are written at most this often per Alert (coalescing bursts into one patch). */
  flushDelayMs?: number;
  onSettled?: (record: NotificationRecord) => void;
  /** Rate-limited duplicates, for a metric. */
  onCollapsed?: (alert: AlertIdentity, event: FluxEvent) => void;
  onError?: (err: unknown, what: string) => void;
}

interface Pending {
  count: number;
  target: string;
}

interface AlertState {
  binding: AlertBinding;
  seen: Map<string, string>;
  durable: Map<string, string>;
  pending: Map<string, Pending>;
  dirty: Map<string, string | null>;
  /** Write the mark even with nothing dirty: its existence is what says "this Alert has started". */
  forceWrite: boolean;
  timer?: NodeJS.Timeout;
  flushing: Promise<void>;
  removed: boolean;
}

function alertKey(identity: AlertIdentity): string {
  return `${identity.namespace}/${identity.name}`;
}

function identityOf(obj: WatchedObject) {
  return {
    kind: obj.kind,
    name: obj.metadata.name,
    ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
    ...(obj.metadata.labels ? { labels: obj.metadata.labels } : {}),
  };
}

export class EventPipeline {
  private readonly alerts = new Map<string, AlertState>();
  private readonly now: () => Date;
  private readonly flushDelayMs: number;

  constructor(private readonly opts: PipelineOptions) {
    this.now = opts.now ?? (() => new Date());
    this.flushDelayMs = opts.flushDelayMs ?? 200;
  }

  has(key: string): boolean {
    return this.alerts.has(key);
  }

  /**
   * Starts (or updates) notifications for an Alert. The first time in this process, loads its mark: no mark means a
   * new Alert, which starts from the objects' current state without notifying it; a mark means catching up on
   * whatever changed since it was written.
   */
  async setAlert(binding: AlertBinding): Promise<void> {
    const key = alertKey(binding.identity);
    const existing = this.alerts.get(key);
    if (existing && existing.binding.identity.uid === binding.identity.uid) {
      const specChanged = existing.binding.identity.generation !== binding.identity.generation;
      existing.binding = binding;
      this.processAll(existing, specChanged);
      return;
    }
    if (existing) this.removeAlert(key);
    const stored = await this.opts.store.load(binding.identity);
    const state: AlertState = {
      binding,
      seen: new Map(stored?.entries ?? []),
      durable: new Map(stored?.entries ?? []),
      pending: new Map(),
      dirty: new Map(),
      forceWrite: false,
      flushing: Promise.resolve(),
      removed: false,
    };
    this.alerts.set(key, state);
    if (!stored) {
      this.baselineAll(state);
      return;
    }
    this.dropVanished(state);
    // Objects an edited spec newly selects start from their current state, like a new Alert's.
    const specChanged = stored.generation !== undefined && stored.generation !== binding.identity.generation;
    this.processAll(state, specChanged);
    if (specChanged) this.scheduleFlush(state, true);
  }

  /** Writes the Alert's pending mark changes, then stops notifying for it (its Provider became unusable, say). */
  async releaseAlert(key: string): Promise<void> {
    const state = this.alerts.get(key);
    if (!state) return;
    await this.flushState(state);
    this.removeAlert(key);
  }

  removeAlert(key: string): void {
    const state = this.alerts.get(key);
    if (!state) return;
    state.removed = true;
    if (state.timer) clearTimeout(state.timer);
    this.alerts.delete(key);
  }

  /** Informer add/update. */
  observe(obj: WatchedObject): void {
    for (const state of this.alerts.values()) this.process(state, obj, false);
  }

  /** Informer delete: the object's entries go, so a re-created object starts fresh. */
  forget(obj: WatchedObject): void {
    const key = watermarkKey(identityOf(obj));
    for (const state of this.alerts.values()) {
      if (!state.seen.has(key)) continue;
      state.seen.delete(key);
      state.pending.delete(key);
      this.markDurable(state, key, null);
    }
  }

  /** Writes every pending mark change now. */
  async flush(): Promise<void> {
    await Promise.all([...this.alerts.values()].map((s) => this.flushState(s)));
  }

  private baselineAll(state: AlertState): void {
    for (const obj of this.opts.listObjects()) {
      if (!alertWatches(state.binding.alert, identityOf(obj))) continue;
      const key = watermarkKey(identityOf(obj));
      const encoded = encodeState(observe(obj));
      state.seen.set(key, encoded);
      state.durable.set(key, encoded);
    }
    // The mark's existence is what says "this Alert has started": write it even when empty.
    this.scheduleFlush(state, true);
  }

  private dropVanished(state: AlertState): void {
    const present = new Set(this.opts.listObjects().map((o) => watermarkKey(identityOf(o))));
    for (const key of [...state.seen.keys()]) {
      if (present.has(key)) continue;
      state.seen.delete(key);
      this.markDurable(state, key, null);
    }
  }

  private processAll(state: AlertState, baselineUnknown: boolean): void {
    for (const obj of this.opts.listObjects()) this.process(state, obj, baselineUnknown);
  }

  private process(state: AlertState, obj: WatchedObject, baselineUnknown: boolean): void {
    const { alert, provider, identity } = state.binding;
    const id = identityOf(obj);
    const key = watermarkKey(id);
    if (!alertWatches(alert, id)) {
      if (state.seen.delete(key)) this.markDurable(state, key, null);
      return;
    }
    const before = state.seen.get(key);
    const encoded = encodeState(observe(obj));
    if (before === encoded) return;
    state.seen.set(key, encoded);
    if (before === undefined && baselineUnknown) {
      this.settleWhenIdle(state, key, encoded);
      return;
    }
    const events = detectTransitions(before === undefined ? undefined : decodeState(before), obj, {
      now: this.now(),
      ...(this.opts.reportingInstance ? { reportingInstance: this.opts.reportingInstance } : {}),
    });
    const pending = state.pending.get(key) ?? { count: 0, target: encoded };
    pending.target = encoded;
    if (!alert.spec.suspend) {
      for (const event of events) {
        if (!severityAccepted(alert, event) || !messageAccepted(alert, event.message)) continue;
        const notification = notificationFor(alert, event);
        notification.id = notificationId(identity.uid, event.id ?? eventKey(event));
        // Flux's key (object, message, revision) plus the reason: derived events can share a message (a recovery's Ready
        // message often repeats the NewArtifact one), and a recovery must not be collapsed into the artifact event.
        if (!this.opts.limiter.allow(`${alertKey(identity)}/${event.reason}/${eventKey(notification)}`)) {
          this.opts.onCollapsed?.(identity, notification);
          continue;
        }
        pending.count++;
        this.opts.queues.enqueue({
          providerKey: provider.key,
          notifier: provider.notifier,
          event: notification,
          secrets: provider.secrets,
          onSettled: (outcome) => {
            this.opts.onSettled?.({ alert: identity, providerKey: provider.key, event: notification, outcome });
            pending.count--;
            if (pending.count === 0 && state.pending.get(key) === pending) {
              state.pending.delete(key);
              this.markDurable(state, key, pending.target);
            }
          },
        });
      }
    }
    if (pending.count > 0) state.pending.set(key, pending);
    else this.markDurable(state, key, encoded);
  }

  private settleWhenIdle(state: AlertState, key: string, encoded: string): void {
    const pending = state.pending.get(key);
    if (pending) pending.target = encoded;
    else this.markDurable(state, key, encoded);
  }

  private markDurable(state: AlertState, key: string, value: string | null): void {
    if (state.removed) return;
    if (value === null) {
      if (!state.durable.delete(key)) return;
    } else {
      if (state.durable.get(key) === value) return;
      state.durable.set(key, value);
    }
    state.dirty.set(key, value);
    this.scheduleFlush(state, false);
  }

  private scheduleFlush(state: AlertState, force: boolean): void {
    if (force) state.forceWrite = true;
    if (state.timer) return;
    state.timer = setTimeout(() => {
      state.timer = undefined;
      void this.flushState(state);
    }, this.flushDelayMs);
  }

  private flushState(state: AlertState): Promise<void> {
    if (state.timer) {
      clearTimeout(state.timer);
      state.timer = undefined;
    }
    state.flushing = state.flushing.then(async () => {
      if ((state.dirty.size === 0 && !state.forceWrite) || state.removed) return;
      const changes = state.dirty;
      const forced = state.forceWrite;
      state.dirty = new Map();
      state.forceWrite = false;
      try {
        await this.opts.store.save(state.binding.identity, changes, new Map(state.durable));
      } catch (err) {
        this.opts.onError?.(err, `write notification mark of Alert ${alertKey(state.binding.identity)}`);
        for (const [k, v] of changes) if (!state.dirty.has(k)) state.dirty.set(k, v);
        if (forced) state.forceWrite = true;
        if (!state.removed && !state.timer) {
          state.timer = setTimeout(
            () => {
              state.timer = undefined;
              void this.flushState(state);
            },
            Math.max(this.flushDelayMs, 1_000),
          );
        }
      }
    });
    return state.flushing;
  }
}
