// kustomize-controller's flags: the runtime's common ones plus Flux's own (names and defaults as Flux), and the
// Capstan additions (marked so) that locate the kustomize binary and the artifact cache.
import { tmpdir } from "node:os";
import { join } from "node:path";
import { controllerFlags, type FlagValues } from "@capstan/runtime";
import { defaultExtractLimits } from "./fetch/archive.js";
import { defaultMaxDownloadBytes } from "./fetch/fetcher.js";

export const kustomizeControllerFlags = controllerFlags({
  "concurrent-ssa": {
    type: "number",
    default: 4,
    integer: true,
    min: 1,
    description: "The number of concurrent server-side apply operations.",
  },
  "requeue-dependency": {
    type: "duration",
    default: 30_000,
    description: "The interval at which failing dependencies are reevaluated.",
  },
  "default-service-account": {
    type: "string",
    default: "",
    description: "Default service account used for impersonation when a Kustomization names none.",
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
  "insecure-kubeconfig-exec": {
    type: "boolean",
    default: false,
    description:
      "Accepted for Flux compatibility, but not supported yet: a kubeconfig's user.exec is always refused (Capstan).",
  },
  "http-retry": {
    type: "number",
    default: 9,
    integer: true,
    min: 0,
    description: "The maximum number of retries when failing to fetch artifacts over HTTP.",
  },
  "feature-gates": {
    type: "string",
    default: "",
    description:
      "Comma-separated feature gates, e.g. StrictPostBuildSubstitutions=true,AdditiveCELDependencyCheck=true.",
  },
  "watch-configs-label-selector": {
    type: "string",
    default: "reconcile.fluxcd.io/watch=Enabled",
    description:
      "Watch the postBuild.substituteFrom ConfigMaps and Secrets with these labels and reconcile the Kustomizations that reference them on change; empty disables.",
  },
  "kustomize-path": {
    type: "string",
    default: "kustomize",
    description: "(Capstan) Path of the kustomize binary to build with.",
  },
  "sops-path": {
    type: "string",
    default: "sops",
    description: "(Capstan) Path of the sops binary that decrypts for spec.decryption (provider sops, age keys).",
  },
  "artifact-cache-dir": {
    type: "string",
    // Under TMPDIR (the chart sets /tmp, an emptyDir): two processes on one machine never share a cache, whose
    // collection drops every digest its own sources do not publish.
    default: join(tmpdir(), "kustomize-controller", "artifacts"),
    description:
      "(Capstan) Directory where downloaded artifacts are extracted and cached by digest (default: $TMPDIR/kustomize-controller/artifacts); one per process, never shared.",
  },
  "artifact-max-size": {
    type: "number",
    default: defaultMaxDownloadBytes,
    integer: true,
    min: 1,
    description: "(Capstan) Largest artifact download accepted, in bytes (compressed).",
  },
  "artifact-max-extracted-size": {
    type: "number",
    default: defaultExtractLimits.maxBytes,
    integer: true,
    min: 1,
    description: "(Capstan) Largest total size of an artifact's files after decompression, in bytes.",
  },
  "artifact-max-file-size": {
    type: "number",
    default: defaultExtractLimits.maxFileBytes,
    integer: true,
    min: 1,
    description: "(Capstan) Largest single file in an artifact, in bytes.",
  },
  "artifact-max-entries": {
    type: "number",
    default: defaultExtractLimits.maxEntries,
    integer: true,
    min: 1,
    description: "(Capstan) Most entries (files, directories, links) in an artifact.",
  },
  "drift-watch": {
    type: "boolean",
    default: true,
    description:
      "(Capstan) Watch the objects of every inventory and correct drift within seconds, not at the next interval.",
  },
  "full-apply-every": {
    type: "number",
    default: 10,
    integer: true,
    min: 1,
    description:
      "(Capstan) With --drift-watch, an unchanged, undrifted Kustomization dry-runs all its objects only every Nth reconcile.",
  },
});

/** `A=true,B=false` → the set of enabled gates. */
export function enabledGates(text: string): Set<string> {
  return new Set(
    text
      .split(",")
      .map((g) => g.trim().split("="))
      .filter(([name, value]) => name && (value === undefined || value.toLowerCase() === "true"))
      .map(([name]) => name!),
  );
}

export type KustomizeControllerFlags = FlagValues<typeof kustomizeControllerFlags>;

/** The reconcile behaviour the flags select, as registerKustomizeController takes it (main.ts and the test harness). */
export function behaviourFromFlags(flags: KustomizeControllerFlags) {
  const gates = enabledGates(flags.featureGates);
  return {
    httpRetry: flags.httpRetry,
    concurrentSsa: flags.concurrentSsa,
    requeueDependencyMs: flags.requeueDependency,
    defaultServiceAccount: flags.defaultServiceAccount,
    noCrossNamespaceRefs: flags.noCrossNamespaceRefs,
    insecureKubeconfigTls: flags.insecureKubeconfigTls,
    strictSubstitutions: gates.has("StrictPostBuildSubstitutions"),
    additiveCelDependencyCheck: gates.has("AdditiveCELDependencyCheck"),
    driftWatch: flags.driftWatch,
    watchConfigsLabelSelector: flags.watchConfigsLabelSelector,
    fullApplyEvery: flags.fullApplyEvery,
    artifactLimits: {
      maxDownloadBytes: flags.artifactMaxSize,
      extract: {
        maxBytes: flags.artifactMaxExtractedSize,
        maxFileBytes: flags.artifactMaxFileSize,
        maxEntries: flags.artifactMaxEntries,
      },
    },
  };
}
