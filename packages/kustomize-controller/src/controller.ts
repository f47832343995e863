// Wires the Kustomization reconciler to a runtime Manager: the artifact fetcher and its cache janitor, the apply
// engine, the client provider, the drift watch and the apply shortcut. main.ts parses flags and calls this; tests
// call it with a manager of their own.
import { gitRepositoryType, KustomizeLabels, kustomizationType, ociRepositoryType } from "@capstan/api";
import { type Controller, type Informer, type KubeObject, type Manager, TokenBucket } from "@capstan/runtime";
import { defaultCleanup } from "./apply/cleanup.js";
import { ApplyEngine } from "./apply/engine.js";
import { SelfWrites } from "./drift/self-writes.js";
import { ApplyShortcut } from "./drift/shortcut.js";
import { DriftWatcher } from "./drift/watcher.js";
import type { ExtractLimits } from "./fetch/archive.js";
import { ArtifactFetcher } from "./fetch/fetcher.js";
import { CacheJanitor } from "./fetch/janitor.js";
import { PreferredVersions } from "./health/preferred.js";
import { ClientProvider, type FromKubeconfig, type ImpersonatingClient } from "./kustomization/clients.js";
import { ConfigWatch } from "./kustomization/config-watch.js";
import type { WatchCache } from "./kustomization/health.js";
import { kustomizationReconciler } from "./kustomization/reconciler.js";
import { sourceKey } from "./kustomization/source.js";
import { DependsOnIndex, SourceIndex } from "./kustomization/source-index.js";
import type { GitRepositoryObject, KustomizationObject, OCIRepositoryObject, State } from "./kustomization/types.js";
import { BuildCache, type BuildCacheOptions } from "./render/cache.js";

export const controllerName = "kustomize-controller";

export interface KustomizeControllerOptions {
  manager: Manager;
  /** The manager's client, which can impersonate (KubeClient). */
  client: ImpersonatingClient;
  /** Builds a remote cluster's client from a Secret's kubeconfig (KubeClient.fromKubeconfig: inline credentials only). */
  fromKubeconfig: FromKubeconfig;
  kustomizeBinary: string;
  /** (Capstan) The sops binary that spec.decryption runs; default "sops" on the controller's PATH. */
  sopsBinary?: string;
  artifactCacheDir: string;
  httpRetry?: number;
  /** --concurrent-ssa: parallel server-side apply requests (reads, dry-runs, applies) within a stage (default 4). */
  concurrentSsa?: number;
  requeueDependencyMs?: number;
  defaultServiceAccount?: string;
  /** --no-cross-namespace-refs: a sourceRef or dependsOn in another namespace is refused (AccessDenied). */
  noCrossNamespaceRefs?: boolean;
  /** --insecure-kubeconfig-tls: a kubeconfig from a Secret may set insecure-skip-tls-verify. */
  insecureKubeconfigTls?: boolean;
  strictSubstitutions?: boolean;
  /** Feature gate AdditiveCELDependencyCheck: a dependsOn readyExpr adds to the built-in readiness check. */
  additiveCelDependencyCheck?: boolean;
  /** How long a reconcile runs before status shows its progress (Reconciling=True; default 5 s). */
  progressDelayMs?: number;
  /** Health polling interval (Flux polls every 5s). */
  healthIntervalMs?: number;
  /**
   * (Capstan) The health checks' reads from the apiserver, all Kustomizations together: what the drift watch's cache
   * cannot answer (default 20 a second, 40 at once after a quiet spell; qps 0 or less: unlimited).
   */
  healthReads?: { qps: number; burst: number };
  /** Backoff of artifact download retries (tests shorten it). */
  minBackoffMs?: number;
  /**
   * (Capstan) Watch inventory objects and reconcile on drift within seconds; default true. Off, drift is corrected
   * at the next interval only, as in Flux, and every interval dry-runs every object.
   */
  driftWatch?: boolean;
  /** Debounce of drift events (default 1s). */
  driftDebounceMs?: number;
  /** With the drift watch, every Nth reconcile of an unchanged set dry-runs all objects (default 10; 1: always). */
  fullApplyEvery?: number;
  /** Quiet time before the artifact cache is collected after a new revision (default 10s). */
  cacheCollectDelayMs?: number;
  /** (Capstan) Caps on artifacts: --artifact-max-size and --artifact-max-{extracted-size,file-size,entries}. */
  artifactLimits?: { maxDownloadBytes?: number; extract?: ExtractLimits };
  /** Tests: awaited before the apply engine writes an object (a crash test stops the controller there). */
  beforeApplyWrite?(obj: KubeObject): Promise<void> | void;
  /**
   * --watch-configs-label-selector: substituteFrom ConfigMaps and Secrets with these labels reconcile the
   * Kustomizations naming them on change (default reconcile.fluxcd.io/watch=Enabled, as Flux 2.5+); "" turns it off.
   */
  watchConfigsLabelSelector?: string;
  /** Tests may shorten the config watch's informer timings. */
  configWatchInformer?: { watchdogMs?: number; resyncPeriodMs?: number };
  /** (Capstan) Reuse of a Kustomization's last build while its inputs are unchanged (bounds); false: build always. */
  buildCache?: BuildCacheOptions | false;
}

const defaultHealthReads = { qps: 20, burst: 40 };

/** What the health check takes from the drift watch: wake-ups, its caches, and the shared pace of live reads. */
function healthDeps(
  drift: DriftWatcher,
  pace: { qps: number; burst: number } = defaultHealthReads,
): { healthChanges: (ids: readonly string[], l: () => void) => () => void; healthCache: WatchCache } {
  const reads = new TokenBucket(pace);
  return {
    healthChanges: (ids, l) => drift.onChange(ids, l),
    healthCache: {
      lookup: (ref) => drift.lookup(ref),
      beforeRead: async (signal) => {
        signal?.throwIfAborted();
        await reads.take();
      },
    },
  };
}

export interface KustomizeController {
  controller: Controller<KustomizationObject, State>;
  buildCache: BuildCache | undefined;
  drift: DriftWatcher | undefined;
  configWatch: ConfigWatch | undefined;
  janitor: CacheJanitor;
  /** Stops what the manager does not own: drift informers and timers. Call after the manager stopped. */
  stop(): void;
}

/** The substituteFrom watch (Flux 2.5+), unless --watch-configs-label-selector is empty. */
function newConfigWatch(
  options: KustomizeControllerOptions,
  kustomizations: Informer<KustomizationObject>,
  enqueue: (key: string) => void,
): ConfigWatch | undefined {
  if (options.watchConfigsLabelSelector === "") return undefined;
  const { manager } = options;
  return new ConfigWatch({
    client: options.client,
    kustomizations,
    enqueue,
    ...(manager.watchNamespace ? { namespace: manager.watchNamespace } : {}),
    ...(options.watchConfigsLabelSelector ? { labelSelector: options.watchConfigsLabelSelector } : {}),
    ...(options.configWatchInformer ? { informer: options.configWatchInformer } : {}),
    log: manager.log,
  });
}

export function registerKustomizeController(options: KustomizeControllerOptions): KustomizeController {
  const { manager } = options;
  const fetcher = new ArtifactFetcher({
    cacheDir: options.artifactCacheDir,
    retries: options.httpRetry ?? 9,
    ...(options.minBackoffMs !== undefined ? { minBackoffMs: options.minBackoffMs } : {}),
    ...(options.artifactLimits?.maxDownloadBytes !== undefined
      ? { maxDownloadBytes: options.artifactLimits.maxDownloadBytes }
      : {}),
    ...(options.artifactLimits?.extract ? { extractLimits: options.artifactLimits.extract } : {}),
  });
  const clients = new ClientProvider({
    root: options.client,
    fromKubeconfig: options.fromKubeconfig,
    insecureKubeconfigTls: options.insecureKubeconfigTls ?? false,
    ...(options.defaultServiceAccount ? { defaultServiceAccount: options.defaultServiceAccount } : {}),
  });
  const kustomizations = manager.informer<KustomizationObject>(kustomizationType);
  const sourceIndex = new SourceIndex();
  kustomizations.addHandlers(sourceIndex.handlers);
  const dependsOnIndex = new DependsOnIndex();
  kustomizations.addHandlers(dependsOnIndex.handlers);
  // Sources are read whatever their shard label: --watch-label-selector shards Kustomizations only, as in Flux.
  const sources = manager.informer<GitRepositoryObject>(gitRepositoryType, { ignoreLabelSelector: true });
  const ociSources = manager.informer<OCIRepositoryObject>(ociRepositoryType, { ignoreLabelSelector: true });
  const sourceOf = (k: KustomizationObject) =>
    (k.spec.sourceRef.kind === "OCIRepository" ? ociSources : sources).cache.get(sourceKey(k));
  const janitor = new CacheJanitor({
    fetcher,
    referenced: () =>
      kustomizations.cache
        .list()
        .map((k) => sourceOf(k)?.status?.artifact?.digest)
        .filter((d): d is string => !!d),
    ...(options.cacheCollectDelayMs !== undefined ? { delayMs: options.cacheCollectDelayMs } : {}),
    onError: (err) => manager.log.warn({ error: (err as Error).message }, "artifact cache collection failed"),
  });

  const selfWrites = new SelfWrites();
  let controller: Controller<KustomizationObject, State> | undefined;
  const drift =
    options.driftWatch === false
      ? undefined
      : new DriftWatcher({
          client: options.client,
          fieldManager: controllerName,
          controlPrefix: `${kustomizationType.group}/`,
          cleanupManagers: defaultCleanup(controllerName).fieldManagers,
          ownerLabels: KustomizeLabels,
          ...(manager.watchNamespace ? { ownerNamespace: manager.watchNamespace } : {}),
          selfWrites,
          enqueue: (key) => controller?.queue.add(key),
          log: manager.log,
          ...(options.driftDebounceMs !== undefined ? { debounceMs: options.driftDebounceMs } : {}),
        });
  const shortcut = drift ? new ApplyShortcut(drift, options.fullApplyEvery ?? 10) : undefined;
  const buildCache = options.buildCache === false ? undefined : new BuildCache(options.buildCache);

  controller = manager.register(
    kustomizationReconciler({
      fetcher,
      clients,
      kustomizeBinary: options.kustomizeBinary,
      ...(options.sopsBinary ? { sopsBinary: options.sopsBinary } : {}),
      fieldManager: controllerName,
      newApplyEngine: (client, owner) =>
        new ApplyEngine({
          client,
          fieldManager: controllerName,
          ownerLabels: KustomizeLabels,
          concurrency: options.concurrentSsa ?? 4,
          onWrite: (obj) => selfWrites.wrote(obj, owner),
          onDelete: (obj) => selfWrites.deletedByUs(obj, owner),
          ...(options.beforeApplyWrite ? { beforeWrite: options.beforeApplyWrite } : {}),
        }),
      requeueDependencyMs: options.requeueDependencyMs ?? 30_000,
      sourceIndex,
      dependsOnIndex,
      noCrossNamespaceRefs: options.noCrossNamespaceRefs ?? false,
      sources: {
        cache: sources.cache,
        // The informer holds every GitRepository of the watched namespace (or all): the shard selector filters
        // Kustomizations only, as in Flux.
        complete: (namespace) => !manager.watchNamespace || manager.watchNamespace === namespace,
      },
      ociSources: {
        cache: ociSources.cache,
        complete: (namespace) => !manager.watchNamespace || manager.watchNamespace === namespace,
      },
      strictSubstitutions: options.strictSubstitutions ?? false,
      additiveCelDependencyCheck: options.additiveCelDependencyCheck ?? false,
      janitor,
      ...(buildCache ? { buildCache } : {}),
      preferredVersions: new PreferredVersions(options.client),
      ...(shortcut ? { shortcut } : {}),
      ...(options.healthIntervalMs !== undefined ? { healthIntervalMs: options.healthIntervalMs } : {}),
      ...(drift ? healthDeps(drift, options.healthReads) : {}),
      ...(options.progressDelayMs !== undefined ? { progressDelayMs: options.progressDelayMs } : {}),
    }),
  );
  drift?.attach(kustomizations);
  const configWatch = newConfigWatch(options, kustomizations, (key) => controller?.queue.add(key));
  kustomizations.addHandlers({
    onDelete: (k) => {
      shortcut?.forget(`${k.metadata.namespace ?? ""}/${k.metadata.name}`);
      buildCache?.forget(`${k.metadata.namespace ?? ""}/${k.metadata.name}`);
    },
  });
  return {
    controller,
    buildCache,
    drift,
    configWatch,
    janitor,
    stop: () => {
      drift?.stop();
      configWatch?.stop();
      janitor.stop();
    },
  };
}
