// helm-controller's flags: the runtime's common ones plus Flux's own (names and defaults as Flux), and the Capstan
// additions (marked so) that locate the helm binary, its scratch space and the chart size cap.
import { controllerFlags, type FlagValues } from "@capstan/runtime";

export const defaultChartMaxBytes = 10 * 1024 * 1024;
/** Largest rendered release (bytes and objects) a chart may produce; above what Helm's 1 MiB release Secret holds. */
export const defaultManifestMaxBytes = 16 * 1024 * 1024;
export const defaultManifestMaxObjects = 10_000;
export const defaultChartCacheMaxBytes = 100 * 1024 * 1024;

export const helmControllerFlags = controllerFlags({
  "requeue-dependency": {
    type: "duration",
    default: 5_000,
    description: "The interval at which failing dependencies are reevaluated.",
  },
  "default-service-account": {
    type: "string",
    default: "",
    description: "Default service account used for impersonation when a HelmRelease names none.",
  },
  "no-cross-namespace-refs": {
    type: "boolean",
    default: false,
    description:
      "When set to true, references between custom resources are allowed only if the reference and the referee are in the same namespace.",
  },
  "insecure-kubeconfig-tls": {
    type: "boolean",
    default: false,
    description: "Allow that kubeconfigs provided for remote apply can disable TLS verification.",
  },
  "helm-path": {
    type: "string",
    default: "helm",
    description: "(Capstan) Path of the helm binary (v4) that releases are made with.",
  },
  "kustomize-path": {
    type: "string",
    default: "kustomize",
    description:
      "(Capstan) Path of the kustomize binary that spec.postRenderers run with (found on PATH when not a path; without it, HelmReleases with postRenderers stall).",
  },
  "work-dir": {
    type: "string",
    default: "/tmp/helm-controller",
    description: "(Capstan) Directory of the per-reconcile scratch space (charts, values files, helm's HOME).",
  },
  "chart-max-size": {
    type: "number",
    default: defaultChartMaxBytes,
    integer: true,
    min: 1,
    description: "(Capstan) Largest chart artifact downloaded, in bytes.",
  },
  "max-manifest-size": {
    type: "number",
    default: defaultManifestMaxBytes,
    integer: true,
    min: 1,
    description:
      "(Capstan) Largest rendered release (a chart's templates after values, with hooks), in bytes; a chart rendering more fails its install or upgrade before anything is applied.",
  },
  "max-manifest-objects": {
    type: "number",
    default: defaultManifestMaxObjects,
    integer: true,
    min: 1,
    description:
      "(Capstan) Most objects a rendered release may hold; a chart rendering more fails its install or upgrade before anything is applied.",
  },
  "chart-cache-max-size": {
    type: "number",
    default: defaultChartCacheMaxBytes,
    integer: true,
    min: 0,
    description:
      "(Capstan) Most bytes of chart artifacts kept by digest in the work directory, so a chart is downloaded once per digest rather than once per action; 0 keeps none.",
  },
});

export type HelmControllerFlags = FlagValues<typeof helmControllerFlags>;

/** The reconcile behaviour the flags select, as registerHelmController takes it (main.ts and the test harness). */
export function behaviourFromFlags(flags: HelmControllerFlags) {
  return {
    requeueDependencyMs: flags.requeueDependency,
    defaultServiceAccount: flags.defaultServiceAccount,
    noCrossNamespaceRefs: flags.noCrossNamespaceRefs,
    insecureKubeconfigTls: flags.insecureKubeconfigTls,
    chartMaxBytes: flags.chartMaxSize,
    chartCacheMaxBytes: flags.chartCacheMaxSize,
    workRoot: flags.workDir,
    manifestLimits: { maxBytes: flags.maxManifestSize, maxObjects: flags.maxManifestObjects },
  };
}
