import { logEncodings, logLevels } from "../telemetry/logger.js";
import type { FlagSpecs, FlagValues } from "./flags.js";

/** The flags every Capstan controller takes, with Flux's names and defaults. */
export const commonFlags = {
  kubeconfig: {
    type: "string",
    default: "",
    description: "Path to a kubeconfig. Empty: $KUBECONFIG, then the in-cluster service account.",
  },
  "kube-api-qps": { type: "number", default: 50, min: 0, description: "Queries per second to the Kubernetes API." },
  "kube-api-burst": {
    type: "number",
    default: 300,
    integer: true,
    min: 0,
    description: "Burst of queries to the API.",
  },
  concurrent: { type: "number", default: 4, integer: true, min: 1, description: "Number of concurrent reconciles." },
  "min-retry-delay": {
    type: "duration",
    default: 750,
    description: "The minimum delay before retrying a failed reconcile (doubles per failure).",
  },
  "max-retry-delay": {
    type: "duration",
    default: 15 * 60_000,
    description: "The maximum delay before retrying a failed reconcile.",
  },
  "leader-elect": {
    type: "boolean",
    default: false,
    description: "Elect a leader through a Lease, so that only one replica reconciles.",
  },
  "enable-leader-election": { type: "boolean", default: false, description: "Flux's name for --leader-elect." },
  "leader-election-lease-duration": {
    type: "duration",
    default: 35_000,
    description: "How long non-leaders wait after the last renewal before taking the Lease.",
  },
  "leader-election-renew-deadline": {
    type: "duration",
    default: 30_000,
    description: "How long the leader keeps retrying to renew before it steps down.",
  },
  "leader-election-retry-period": {
    type: "duration",
    default: 5_000,
    description: "How often candidates try to take or renew the Lease.",
  },
  "health-addr": { type: "string", default: ":9440", description: "Address of the /healthz and /readyz endpoints." },
  "metrics-addr": { type: "string", default: ":8080", description: "Address of the /metrics endpoint." },
  "log-level": { type: "string", default: "info", choices: logLevels, description: "Log verbosity." },
  "log-encoding": { type: "string", default: "json", choices: logEncodings, description: "Log format." },
  "watch-all-namespaces": {
    type: "boolean",
    default: true,
    description: "Watch every namespace; when false, only the runtime namespace (--namespace).",
  },
  "watch-label-selector": {
    type: "string",
    default: "",
    description:
      "Reconcile only objects matching this label selector (sharding), e.g. 'sharding.fluxcd.io/key in (shard1)'.",
  },
  namespace: {
    type: "string",
    default: "",
    description: "The runtime namespace (Lease, watched namespace). Empty: $RUNTIME_NAMESPACE, then $POD_NAMESPACE.",
  },
} as const satisfies FlagSpecs;

export type CommonFlagSpecs = typeof commonFlags;
export type CommonFlags = FlagValues<CommonFlagSpecs>;

/** The common flags plus a controller's own; its own win on a name clash (a different default, say). */
export function controllerFlags<E extends FlagSpecs>(extra: E): Omit<CommonFlagSpecs, keyof E> & E {
  return { ...commonFlags, ...extra };
}

/**
 * The namespace a controller runs in: --namespace, else RUNTIME_NAMESPACE (Flux's), else POD_NAMESPACE, else the
 * service account's namespace file, else "default". Read when called, never at import.
 */
export function runtimeNamespace(
  flags: { namespace: string },
  env: NodeJS.ProcessEnv = process.env,
  serviceAccountNamespace?: string,
): string {
  return flags.namespace || env.RUNTIME_NAMESPACE || env.POD_NAMESPACE || serviceAccountNamespace?.trim() || "default";
}
