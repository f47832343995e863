// Wires the notification-controller: the Manager (informers, the Receiver reconciler, health, metrics, leader
// election), the notifications (alerts/notifications.ts: binder, pipeline, delivery; only while leading), and the
// Receiver HTTP server (on every replica: it only reads the cache and annotates objects). main.ts calls this with the
// parsed flags; tests call it in-process.
import { alertType, providerType, receiverType } from "@capstan/api";
import {
  createEventRecorder,
  createLogger,
  KubeClient,
  type LogEncoding,
  type LogLevel,
  Manager,
  type PinoLogger,
} from "@capstan/runtime";
import type { AlertObject, ProviderObject } from "./alerts/binder.js";
import { AlertNotifications } from "./alerts/notifications.js";
import { hookedLeaseElector } from "./controller/leader.js";
import { watchableKinds } from "./events/sources.js";
import type { NotificationFlags } from "./flags.js";
import { type SecretObject, secretType } from "./kube/types.js";
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

  let notifications: AlertNotifications | undefined;
  const manager = new Manager({
    name: controllerName,
    flags,
    client,
    logger: log,
    env,
    handleSignals: false,
    events: () => recorder,
    elector: hookedLeaseElector(log, {
      onStartedLeading: () => void notifications?.start(),
      onStoppedLeading: () => notifications?.abort(),
    }),
  });
  // --watch-label-selector shards the Alerts, Providers and Receivers this controller serves, never the Secrets they
  // name nor the objects Alerts watch: as in Flux, where those are read unfiltered and events arrive from every shard.
  const secrets = manager.informer<SecretObject>(secretType, { ignoreLabelSelector: true });
  const receivers = manager.informer<ReceiverObject>(receiverType);
  notifications = new AlertNotifications({
    client,
    fieldManager: controllerName,
    alerts: manager.informer<AlertObject>(alertType),
    providers: manager.informer<ProviderObject>(providerType),
    secrets,
    watchable: watchableKinds,
    informerFor: (type) => manager.informer(type, { ignoreLabelSelector: true }),
    events: recorder,
    log,
    registry: manager.metrics.registry,
    rateLimitIntervalMs: flags.rateLimitInterval,
    noCrossNamespaceRefs: flags.noCrossNamespaceRefs,
    concurrency: flags.concurrent,
    backoff: { baseDelayMs: flags.minRetryDelay, maxDelayMs: flags.maxRetryDelay },
    drainTimeoutMs: options.drainTimeoutMs ?? 20_000,
  });
  manager.register(receiverDefinition({ secrets: secrets.cache }));

  let receiverServer: ReceiverServer | undefined;
  let stopping: Promise<void> | undefined;
  // Notifications first: their marks must be written before manager.stop gives up the Lease.
  const stop = () => {
    stopping ??= (async () => {
      await notifications.stop();
      await manager.stop();
      await receiverServer?.close();
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
      receiverServer = await startReceiverServer(parseListenAddress(flags.receiverAddr), {
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
      if (!flags.leaderElect && !flags.enableLeaderElection) void notifications.start().catch(() => undefined);
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
