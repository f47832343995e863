// Wires the notification-controller from its flags: the Manager (informers, the Receiver reconciler, health, metrics,
// leader election), the Alert/Provider binder and EventPipeline (only while leading), and the Receiver HTTP server
// (on every replica: it only reads the cache and annotates objects).
import {
  createEventRecorder,
  createLogger,
  KubeClient,
  type LogEncoding,
  type LogLevel,
  Manager,
  type PinoLogger,
} from "@capstan/runtime";
import { AlertBinder, type AlertObject, type ProviderObject } from "./alerts/binder.js";
import { notificationMetrics } from "./alerts/metrics.js";
import { EventPipeline, type NotificationRecord } from "./alerts/pipeline.js";
import { EventRateLimiter } from "./alerts/ratelimit.js";
import { ConfigMapWatermarkStore } from "./alerts/watermark-store.js";
import { hookedLeaseElector } from "./controller/leader.js";
import { DeliveryQueues } from "./delivery/queues.js";
import { WatchedSources } from "./events/sources.js";
import type { NotificationFlags } from "./flags.js";
import {
  alertResource,
  providerResource,
  receiverResource,
  type SecretObject,
  secretType,
  watchableKinds,
} from "./kube/types.js";
import { NotifierCache } from "./providers/notifier-cache.js";
import { createKubeReceiverBackend } from "./receiver/kube-backend.js";
import { type ReceiverObject, receiverDefinition } from "./receiver/reconciler.js";
import { parseListenAddress, type ReceiverServer, startReceiverServer } from "./receiver/server.js";

export const controllerName = "notification-controller";

export interface NotificationControllerOptions {
  flags: NotificationFlags;
  env?: NodeJS.ProcessEnv;
  logger?: PinoLogger;
  /** Stop on SIGTERM/SIGINT (default true). */
  handleSignals?: boolean;
  /** How long a shutdown waits for notifications in flight before cancelling them. Default 20s. */
  drainTimeoutMs?: number;
  /** The Kubernetes client (default: from the flags); tests pass one with a request hook to count API calls. */
  client?: KubeClient;
}

export interface NotificationController {
  readonly manager: Manager;
  /** Resolves after a clean stop; rejects when startup fails or leadership is lost. */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

export function startNotificationController(options: NotificationControllerOptions): NotificationController {
  const { flags } = options;
  const env = options.env ?? process.env;
  const log =
    options.logger ?? createLogger({ level: flags.logLevel as LogLevel, encoding: flags.logEncoding as LogEncoding });
  const client = options.client ?? KubeClient.fromFlags(flags, controllerName);
  const recorder = createEventRecorder(client, {
    controller: controllerName,
    ...(env.POD_NAME ? { instance: env.POD_NAME } : {}),
    logger: log,
  });

  const queues = new DeliveryQueues();
  let sending = false;
  let binder: AlertBinder | undefined;
  const startSending = () => {
    if (sending || !binder) return;
    sending = true;
    log.info({}, "starting alert bindings");
    binder.start();
  };
  const abortSending = () => {
    sending = false;
    void queues.stop();
    void binder?.stop();
  };

  const manager = new Manager({
    name: controllerName,
    flags,
    client,
    logger: log,
    env,
    handleSignals: false,
    events: () => recorder,
    elector: hookedLeaseElector(log, { onStartedLeading: startSending, onStoppedLeading: abortSending }),
  });
  const metrics = notificationMetrics(manager.metrics.registry);
  // --watch-label-selector shards the Alerts, Providers and Receivers this controller serves, never the Secrets they
  // name nor the objects Alerts watch: as in Flux, where those are read unfiltered and events arrive from every shard.
  const secrets = manager.informer<SecretObject>(secretType, { ignoreLabelSelector: true });
  const alerts = manager.informer<AlertObject>(alertResource);
  const providers = manager.informer<ProviderObject>(providerResource);
  const receivers = manager.informer<ReceiverObject>(receiverResource);

  let pipeline: EventPipeline | undefined;
  const sources = new WatchedSources(
    watchableKinds,
    (type) => manager.informer(type, { ignoreLabelSelector: true }),
    () => (sending ? pipeline : undefined),
  );
  pipeline = new EventPipeline({
    store: new ConfigMapWatermarkStore(client, controllerName),
    queues,
    limiter: new EventRateLimiter(flags.rateLimitInterval),
    listObjects: () => sources.list(),
    onSettled: (record) => reportDelivery(record),
    onCollapsed: (alert, event) => {
      metrics.collapsed(alert);
      log.debug(
        { alert: `${alert.namespace}/${alert.name}`, reason: event.reason, object: event.involvedObject.name },
        "notification collapsed by the rate limit",
      );
    },
    onError: (err, what) => log.error({ err: (err as Error).message }, what),
  });
  const reportDelivery = (record: NotificationRecord) => {
    const { alert, event, outcome } = record;
    const involved = `${event.involvedObject.kind}/${event.involvedObject.namespace ?? ""}/${event.involvedObject.name}`;
    const fields = { alert: `${alert.namespace}/${alert.name}`, provider: record.providerKey, object: involved };
    if (outcome.delivered) metrics.delivered(alert, record.providerKey);
    else if (outcome.dropped) metrics.dropped(alert, record.providerKey);
    else metrics.failed(alert, record.providerKey);
    if (outcome.delivered) {
      log.debug({ ...fields, reason: event.reason, attempts: outcome.attempts }, "notification sent");
      return;
    }
    // Flux's words: "dispatch" when no notifier could be made for the Provider, "send" when the provider refused.
    const verb = outcome.dropped ? "dispatch" : "send";
    const message = `failed to ${verb} notification for ${involved}: ${outcome.error ?? "unknown error"}`;
    log.error({ ...fields, attempts: outcome.attempts, outcome: outcome.dropped ? "dropped" : "failed" }, message);
    recorder.event(
      {
        apiVersion: alert.apiVersion,
        kind: "Alert",
        metadata: { name: alert.name, namespace: alert.namespace, uid: alert.uid },
      },
      "Warning",
      "NotificationDispatchFailed",
      message,
    );
  };
  const notifiers = new NotifierCache((key) => queues.pending(key));
  binder = new AlertBinder({
    alerts,
    providers,
    secrets,
    sources,
    pipeline,
    notifiers,
    events: recorder,
    log,
    noCrossNamespaceRefs: flags.noCrossNamespaceRefs,
    concurrency: flags.concurrent,
    backoff: { baseDelayMs: flags.minRetryDelay, maxDelayMs: flags.maxRetryDelay },
  });
  manager.register(receiverDefinition({ secrets: secrets.cache }));

  let receiverServer: ReceiverServer | undefined;
  let stopping: Promise<void> | undefined;
  const drainTimeoutMs = options.drainTimeoutMs ?? 20_000;
  // Order matters: stop detecting and binding, let notifications in flight land and their marks be written, and only
  // then give up the Lease (manager.stop), so a successor starts from marks that include them.
  const stop = () => {
    stopping ??= (async () => {
      sending = false;
      await binder?.stop();
      if (!(await queues.drain(drainTimeoutMs)))
        log.error({ drainTimeoutMs }, "notifications still in flight were cancelled");
      await queues.stop();
      await pipeline
        ?.flush()
        .catch((err: unknown) => log.error({ err: (err as Error).message }, "write notification marks"));
      await manager.stop();
      await receiverServer?.close();
      await notifiers.closeAll();
      await recorder.flush();
    })();
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    log.info({ signal }, "shutdown signal received, draining");
    void stop();
  };
  if (options.handleSignals ?? true) {
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  }

  const done = (async () => {
    try {
      const listen = parseListenAddress(flags.receiverAddr);
      receiverServer = await startReceiverServer(listen, {
        backend: createKubeReceiverBackend({
          client,
          listReceivers: () => receivers.cache.list(),
          secrets: secrets.cache,
          fieldManager: controllerName,
        }),
        noCrossNamespaceRefs: flags.noCrossNamespaceRefs,
        onRequest: (path, result) =>
          log.info({ path: path.slice(0, 12), status: result.status, annotated: result.annotated }, result.detail),
      });
      log.info({ addr: flags.receiverAddr, url: `http://${receiverServer.address()}`, paths: ["/hook/"] }, "serving");
      const running = manager.start();
      if (!flags.leaderElect && !flags.enableLeaderElection) {
        void Promise.all([alerts.start(), providers.start(), secrets.start()]).then(startSending, () => undefined);
      }
      await running;
    } catch (err) {
      await stop().catch(() => undefined);
      throw err;
    } finally {
      await stop();
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      client.close();
    }
  })();
  return { manager, done, stop };
}
