// Wires the HelmRelease reconciler to a runtime Manager. main.ts parses flags and calls this; tests call it with a
// manager of their own.
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { Controller, Manager } from "@capstan/runtime";
import { ChartCache } from "./chart/cache.js";
import { defaultManifestMaxBytes, defaultManifestMaxObjects } from "./flags.js";
import type { ClusterAccess } from "./helm/access.js";
import { helmTelemetry } from "./helm/telemetry.js";
import { ChartVersionMemo } from "./helmrelease/oci-source.js";
import { helmReleaseReconciler } from "./helmrelease/reconciler.js";
import type { ImpersonatingClient } from "./helmrelease/target.js";
import type { HelmReleaseObject, State } from "./helmrelease/types.js";
import type { ManifestLimits } from "./postrender/plugin.js";

export const controllerName = "helm-controller";

export interface HelmControllerOptions {
  manager: Manager;
  /** The manager's client, which can impersonate (KubeClient). */
  client: ImpersonatingClient;
  /** How the helm child reaches the same cluster as `client`. */
  access: ClusterAccess;
  /** Builds a remote cluster's client from a Secret's kubeconfig (KubeClient.fromKubeconfig: inline credentials only). */
  fromKubeconfig(yaml: string, options: { allowInsecureTls: boolean }): ImpersonatingClient;
  helmBinary: string;
  /** The pinned kustomize for spec.postRenderers; undefined: HelmReleases with postRenderers stall. */
  kustomizeBinary?: string;
  workRoot: string;
  requeueDependencyMs?: number;
  defaultServiceAccount?: string;
  noCrossNamespaceRefs?: boolean;
  insecureKubeconfigTls?: boolean;
  chartMaxBytes?: number;
  /** --max-manifest-size and --max-manifest-objects. */
  manifestLimits?: ManifestLimits;
  /** (Capstan) Most bytes of chart artifacts kept by digest under `<workRoot>/chart-cache`; 0 keeps none. */
  chartCacheMaxBytes?: number;
}

/** The helm forks' shared discovery cache, emptied at start: nothing an earlier process saw is reused. */
function kubeCacheDir(workRoot: string): string {
  const dir = join(workRoot, "kube-cache");
  rmSync(dir, { recursive: true, force: true });
  return dir;
}

export function registerHelmController(options: HelmControllerOptions): Controller<HelmReleaseObject, State> {
  const cacheBytes = options.chartCacheMaxBytes ?? 100 * 1024 * 1024;
  return options.manager.register(
    helmReleaseReconciler({
      helmBinary: options.helmBinary,
      ...(options.kustomizeBinary ? { kustomizeBinary: options.kustomizeBinary } : {}),
      fieldManager: controllerName,
      requeueDependencyMs: options.requeueDependencyMs ?? 5_000,
      noCrossNamespaceRefs: options.noCrossNamespaceRefs ?? false,
      chartMaxBytes: options.chartMaxBytes ?? 10 * 1024 * 1024,
      workRoot: options.workRoot,
      manifestLimits: options.manifestLimits ?? {
        maxBytes: defaultManifestMaxBytes,
        maxObjects: defaultManifestMaxObjects,
      },
      ...(cacheBytes > 0
        ? { chartCache: new ChartCache({ dir: join(options.workRoot, "chart-cache"), maxBytes: cacheBytes }) }
        : {}),
      chartVersions: new ChartVersionMemo(),
      telemetry: helmTelemetry(options.manager.metrics),
      kubeCacheDir: kubeCacheDir(options.workRoot),
      serverFieldValidation: true,
      target: {
        root: options.client,
        access: options.access,
        fromKubeconfig: options.fromKubeconfig,
        insecureKubeconfigTls: options.insecureKubeconfigTls ?? false,
        ...(options.defaultServiceAccount ? { defaultServiceAccount: options.defaultServiceAccount } : {}),
      },
    }),
  );
}
