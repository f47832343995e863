// @capstan/notification-controller: derives Flux events from status transitions, sends them to Providers, and serves
// Receiver webhooks. main.ts wires these from flags.

export { AlertBinder, type AlertBinderOptions } from "./alerts/binder.js";
export {
  alertAccepts,
  type CompiledAlert,
  compileAlert,
  InvalidRegexError,
  notificationFor,
} from "./alerts/matching.js";
export { type AlertBinding, EventPipeline, type PipelineOptions, type ProviderBinding } from "./alerts/pipeline.js";
export { EventRateLimiter } from "./alerts/ratelimit.js";
export {
  ConfigMapWatermarkStore,
  MemoryWatermarkStore,
  type WatermarkStore,
  watermarkConfigMapName,
} from "./alerts/watermark-store.js";
export {
  controllerName,
  type NotificationController,
  type NotificationControllerOptions,
  startNotificationController,
} from "./controller.js";
export {
  type DeliveryJob,
  type DeliveryOutcome,
  DeliveryQueues,
  type DeliveryQueuesOptions,
} from "./delivery/queues.js";
export { defaultRetryPolicy, type RetryPolicy, withRetries } from "./delivery/retry.js";
export { encodeEvent, eventKey, type FluxEvent, type InvolvedObject } from "./events/event.js";
export { WatchedSources } from "./events/sources.js";
export { detectTransitions, type ObservedState, observe } from "./events/transitions.js";
export type { WatchedObject } from "./events/watched.js";
export { type NotificationFlags, notificationFlagSpecs, parseNotificationFlags } from "./flags.js";
export { DeliveryError } from "./providers/http.js";
export { createNotifier, type Notifier } from "./providers/notifier.js";
export { NotifierCache } from "./providers/notifier-cache.js";
export {
  ProviderResolutionError,
  resolveProvider,
  type SecretReader,
} from "./providers/resolve.js";
export {
  isProviderType,
  ProviderConfigError,
  type ProviderSettings,
  providerTypes,
  secretValues,
} from "./providers/settings.js";
export {
  handleReceiverRequest,
  type ReceiverBackend,
  type ReceiverView,
  receiverTypes,
} from "./receiver/handler.js";
export { createKubeReceiverBackend, goTimeNow, readToken } from "./receiver/kube-backend.js";
export { type ReceiverObject, receiverDefinition } from "./receiver/reconciler.js";
export { parseListenAddress, type ReceiverServer, startReceiverServer } from "./receiver/server.js";
export { receiverStatus } from "./receiver/status.js";
export { webhookPath } from "./receiver/webhook-path.js";
