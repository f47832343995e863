// Wires the Kustomization reconciler to a runtime Manager: the artifact fetcher, the apply engine, the client
// provider. main.ts parses flags and calls this; tests call it with a manager of their own.
import type { Manager } from "@capstan/runtime";
import { ResourceManager } from "./apply/manager.js";
import { ArtifactFetcher } from "./fetch/fetcher.js";
import { ClientProvider, type ImpersonatingClient } from "./kustomization/clients.js";
import { kustomizationReconciler } from "./kustomization/reconciler.js";

export const controllerName = "kustomize-controller";
export const ownerGroup = "kustomize.toolkit.fluxcd.io";

export interface KustomizeControllerOptions {
  manager: Manager;
  /** The manager's client, which can impersonate (KubeClient). */
  client: ImpersonatingClient;
  fromKubeconfig(yaml: string): ImpersonatingClient;
  kustomizeBinary: string;
  artifactCacheDir: string;
  httpRetry?: number;
  requeueDependencyMs?: number;
  defaultServiceAccount?: string;
  strictSubstitutions?: boolean;
  /** Health polling interval (Flux polls every 5s). */
  healthIntervalMs?: number;
  /** Backoff of artifact download retries (tests shorten it). */
  minBackoffMs?: number;
}

export function registerKustomizeController(options: KustomizeControllerOptions) {
  const fetcher = new ArtifactFetcher({
    cacheDir: options.artifactCacheDir,
    retries: options.httpRetry ?? 9,
    ...(options.minBackoffMs !== undefined ? { minBackoffMs: options.minBackoffMs } : {}),
  });
  const clients = new ClientProvider({
    root: options.client,
    fromKubeconfig: options.fromKubeconfig,
    ...(options.defaultServiceAccount ? { defaultServiceAccount: options.defaultServiceAccount } : {}),
  });
  return options.manager.register(
    kustomizationReconciler({
      fetcher,
      clients,
      kustomizeBinary: options.kustomizeBinary,
      fieldManager: controllerName,
      newManager: (client) => new ResourceManager({ client, fieldManager: controllerName, ownerGroup }),
      requeueDependencyMs: options.requeueDependencyMs ?? 30_000,
      strictSubstitutions: options.strictSubstitutions ?? false,
      ...(options.healthIntervalMs !== undefined ? { healthIntervalMs: options.healthIntervalMs } : {}),
    }),
  );
}
