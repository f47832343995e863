// Wires the notification-controller: the Manager (informers, the Receiver reconciler, health, metrics, leader
// election, signals), the notifications (alerts/notifications.ts: binder, pipeline, delivery) as a leader-only
// runnable, and the Receiver HTTP server as a runnable on every replica (it only reads the caches and annotates
// objects). main.ts calls this with the parsed flags; tests call it in-process.
import { alertType, providerType, receiverType } from "@capstan/api";
import {
  createEventRecorder,
  createLogger,
  KubeClient,
  type LogEncoding,
  type LogLevel,
  Manager,
  type PinoLogger,
  type SecretObject,
  secretType,
} from "@capstan/runtime";
import type { AlertObject, ProviderObject } from "./alerts/binder.js";
import { AlertNotifications } from "./alerts/notifications.js";
import { watchableKinds } from "./events/sources.js";
import type { NotificationFlags } from "./flags.js";
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
  const manager = new Manager({
    name: controllerName,
    flags,
    client,
    logger: log,
    env,
    handleSignals: options.handleSignals ?? true,
    events: () => recorder,
  });
  // --watch-label-selector shards the Alerts, Providers and Receivers this controller serves, never the Secrets they
  // name nor the objects Alerts watch: as in Flux, where those are read unfiltered and events arrive from every shard.
  const secrets = manager.informer<SecretObject>(secretType, { ignoreLabelSelector: true });
  const receivers = manager.informer<ReceiverObject>(receiverType);
  manager.register(receiverDefinition({ secrets: secrets.cache }));
  manager.add(
    new AlertNotifications({
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
    }),
  );
  let receiverServer: ReceiverServer | undefined;
  manager.add({
    name: "receiver-server",
    start: async () => {
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
    },
    stop: () => receiverServer?.close(),
  });

  const done = manager.start().finally(() => client.close());
  return { manager, done, stop: () => manager.stop() };
}
