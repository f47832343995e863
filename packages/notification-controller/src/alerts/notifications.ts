// The notification side of the controller, as one unit with a lifecycle: the Alert/Provider binder, the EventPipeline,
// the per-Provider delivery queues and the notifiers. It is a leader-only Runnable of the Manager: v1beta3 Alerts have
// no status to reconcile, but two replicas sending would notify everything twice.
import type { Client, EventRecorder, Informer, Logger, ResourceType, Runnable, SecretObject } from "@capstan/runtime";
import type { Registry } from "prom-client";
import { DeliveryQueues } from "../delivery/queues.js";
import { type WatchedInformer, WatchedSources } from "../events/sources.js";
import { NotifierCache } from "../providers/notifier-cache.js";
import { AlertBinder, type AlertObject, type ProviderObject } from "./binder.js";
import { notificationMetrics } from "./metrics.js";
import { reportSettled } from "./outcomes.js";
import { EventPipeline } from "./pipeline.js";
import { EventRateLimiter } from "./ratelimit.js";
import { ConfigMapWatermarkStore } from "./watermark-store.js";

export interface AlertNotificationsOptions {
  /** Writes the marks' ConfigMaps (under `fieldManager`). */
  client: Client;
  fieldManager: string;
  alerts: Informer<AlertObject>;
  providers: Informer<ProviderObject>;
  secrets: Informer<SecretObject>;
  /** The kinds an Alert may select, and the shared informer of each (started only once an Alert selects it). */
  watchable: Readonly<Record<string, ResourceType>>;
  informerFor: (type: ResourceType) => WatchedInformer;
  events: EventRecorder;
  log: Logger;
  registry: Registry;
  /** --rate-limit-interval, in ms. */
  rateLimitIntervalMs: number;
  noCrossNamespaceRefs: boolean;
  concurrency: number;
  backoff: { baseDelayMs: number; maxDelayMs: number };
  /** How long stop() waits for notifications in flight before cancelling them. */
  drainTimeoutMs: number;
}

export class AlertNotifications implements Runnable {
  readonly name = "alert-notifications";
  readonly leaderOnly = true;
  readonly #log: Logger;
  readonly #drainTimeoutMs: number;
  readonly #queues = new DeliveryQueues();
  readonly #pipeline: EventPipeline;
  readonly #notifiers: NotifierCache;
  readonly #binder: AlertBinder;
  /** Detected transitions reach the pipeline only while sending, i.e. on the leader between start() and stop(). */
  #sending = false;
  #stopping: Promise<void> | undefined;

  constructor(o: AlertNotificationsOptions) {
    this.#log = o.log;
    this.#drainTimeoutMs = o.drainTimeoutMs;
    const metrics = notificationMetrics(o.registry);
    const sources = new WatchedSources(o.watchable, o.informerFor, () => (this.#sending ? this.#pipeline : undefined));
    this.#pipeline = new EventPipeline({
      store: new ConfigMapWatermarkStore(o.client, o.fieldManager),
      queues: this.#queues,
      limiter: new EventRateLimiter(o.rateLimitIntervalMs),
      listObjects: () => sources.list(),
      onSettled: reportSettled({ metrics, log: o.log, events: o.events }),
      onCollapsed: (alert, event) => {
        metrics.collapsed(alert);
        o.log.debug(
          { alert: `${alert.namespace}/${alert.name}`, reason: event.reason, object: event.involvedObject.name },
          "notification collapsed by the rate limit",
        );
      },
      onError: (err, what) => o.log.error({ err: (err as Error).message }, what),
    });
    this.#notifiers = new NotifierCache((key) => this.#queues.pending(key));
    this.#binder = new AlertBinder({
      alerts: o.alerts,
      providers: o.providers,
      secrets: o.secrets,
      sources,
      pipeline: this.#pipeline,
      notifiers: this.#notifiers,
      events: o.events,
      log: o.log,
      noCrossNamespaceRefs: o.noCrossNamespaceRefs,
      concurrency: o.concurrency,
      backoff: o.backoff,
    });
  }

  /**
   * Binds the Alerts and starts sending (the Manager calls it on the leader, once the Alert, Provider and Secret caches
   * are synced). `signal` aborts when leadership is lost.
   */
  start(signal?: AbortSignal): void {
    if (this.#sending || this.#stopping) return;
    signal?.addEventListener("abort", () => this.abort(), { once: true });
    this.#sending = true;
    this.#log.info({}, "starting alert bindings");
    this.#binder.start();
  }

  /**
   * In this order: stop detecting and binding, let notifications in flight land, write their marks, close the
   * notifiers. Only after this may the Lease be given up (the Manager stops leader-only runnables before it releases
   * the Lease), so a successor starts from marks that include them.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#sending = false;
      await this.#binder.stop();
      if (!(await this.#queues.drain(this.#drainTimeoutMs)))
        this.#log.error({ drainTimeoutMs: this.#drainTimeoutMs }, "notifications still in flight were cancelled");
      await this.#queues.stop();
      await this.#pipeline
        .flush()
        .catch((err: unknown) => this.#log.error({ err: (err as Error).message }, "write notification marks"));
      await this.#notifiers.closeAll();
    })();
    return this.#stopping;
  }

  /** Leadership lost: another replica may be sending already, so stop at once, without draining. */
  abort(): void {
    this.#sending = false;
    void this.#queues.stop();
    void this.#binder.stop();
  }
}
