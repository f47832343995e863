export { type KubeConfigSource, type LoadedKubeConfig, loadKubeConfig } from "./config.js";
export { type APIResourceList, Discovery, type FetchGroupVersion } from "./discovery.js";
export {
  ApiError,
  type ApiErrorInit,
  decodeApiError,
  isAlreadyExists,
  isConflict,
  isForbidden,
  isGone,
  isInvalid,
  isNoKindMatch,
  isNotFound,
  type StatusCause,
} from "./errors.js";
export {
  type InlineKubeconfig,
  type InlineKubeconfigOptions,
  KubeconfigRefusedError,
  maxKubeconfigBytes,
  parseInlineKubeconfig,
} from "./inline-kubeconfig.js";
export { type FlowControlLogger, type FlowControlState, KubeClient, type KubeClientOptions } from "./kube-client.js";
export { refuseConfigMapKubeconfig } from "./kubeconfig-configmap.js";
export { collectionPath, describeObject, formatApiVersion, objectPath, parseApiVersion } from "./paths.js";
export { type RateLimiterOptions, TokenBucket } from "./rate-limiter.js";
export type { Impersonation, RequestHook, RequestInfo } from "./transport.js";
