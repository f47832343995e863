// source-controller's wiring, shared by main.ts (the process) and the test harness: storage on disk, the artifact
// server, and a Manager with the GitRepository reconciler registered. Nothing here reads process state that is not
// passed in.
import { mkdir } from "node:fs/promises";
import { hostname } from "node:os";
import { type Client, Manager, type PinoLogger } from "@capstan/runtime";
import { controllerName, type SourceControllerFlags } from "./flags.js";
import { GitCache } from "./git/cache.js";
import { gitRepositoryReconciler } from "./gitrepository/definition.js";
import { helmChartReconciler } from "./helmchart/definition.js";
import { helmRepositoryReconciler } from "./helmrepository/definition.js";
import { RegistryAuthCache } from "./ocirepository/auth-cache.js";
import { ociRepositoryReconciler } from "./ocirepository/definition.js";
import { type ArtifactServer, startArtifactServer } from "./server/server.js";
import { Storage } from "./storage/storage.js";

export interface SourceControllerOptions {
  flags: SourceControllerFlags;
  client: Client;
  /** Where STORAGE_PATH, STORAGE_ADDR, STORAGE_ADV_ADDR and the runtime namespace are read; default process.env. */
  env?: NodeJS.ProcessEnv;
  logger?: PinoLogger;
  /** Stop on SIGTERM/SIGINT (default true; a test running the controller in its own process turns it off). */
  handleSignals?: boolean;
}

export interface SourceController {
  readonly manager: Manager;
  readonly storage: Storage;
  readonly artifacts: ArtifactServer;
  /** Runs until stop() or a signal (see Manager.start), then closes the artifact server. */
  run(): Promise<void>;
  /** Stops the manager (drain, Lease release) and the artifact server. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The address written into artifact URLs: --storage-adv-addr, else the listen host of --storage-addr when it names
 * one (Flux's fallback), else this host's name; with the port actually bound (so `127.0.0.1:0` works in tests).
 */
export function advertisedAddress(flag: string, storageAddr: string, boundPort: number): string {
  if (flag) return flag;
  const host = storageAddr.slice(0, Math.max(0, storageAddr.lastIndexOf(":"))).replace(/^\[|\]$/g, "");
  const specific = host !== "" && host !== "0.0.0.0" && host !== "::";
  const name = specific ? host : hostname();
  return `${name.includes(":") ? `[${name}]` : name}:${boundPort}`;
}

/**
 * Builds the controller: creates the storage directory, starts the artifact server (every replica serves artifacts,
 * as Flux does: only the leader writes them, any can be asked for them) and registers the reconciler. run() starts
 * the manager.
 */
export async function createSourceController(o: SourceControllerOptions): Promise<SourceController> {
  const { flags } = o;
  const env = o.env ?? process.env;
  const storagePath = flags.storagePath || env.STORAGE_PATH || "/data";
  const storageAddr = flags.storageAddr || env.STORAGE_ADDR || ":9090";
  await mkdir(storagePath, { recursive: true });
  const manager = new Manager({
    name: controllerName,
    flags,
    client: o.client,
    env,
    ...(o.logger ? { logger: o.logger } : {}),
    ...(o.handleSignals === undefined ? {} : { handleSignals: o.handleSignals }),
  });
  const artifacts = await startArtifactServer({
    root: storagePath,
    address: storageAddr,
    onError: (err) => manager.log.error({ err: { message: err.message } }, "artifact server error"),
  });
  const storage = new Storage({
    root: storagePath,
    advertisedAddress: advertisedAddress(
      flags.storageAdvAddr || env.STORAGE_ADV_ADDR || "",
      storageAddr,
      artifacts.port,
    ),
    retentionRecords: flags.artifactRetentionRecords,
    retentionTtlMs: flags.artifactRetentionTtl,
  });
  // (Capstan) One object cache per process for every GitRepository (git/cache.ts); removed when the controller stops.
  const gitCache = new GitCache();
  manager.register(
    gitRepositoryReconciler({
      storage,
      gitCache,
      requeueDependencyMs: flags.requeueDependency,
      ...(flags.artifactMaxSize ? { artifactMaxSize: flags.artifactMaxSize } : {}),
    }),
  );
  // (Capstan) One registry token cache for OCIRepositories and OCI HelmCharts: the same registry, credentials and TLS
  // settings share a challenge and, per scope, a token (ocirepository/auth-cache.ts).
  const authCache = new RegistryAuthCache();
  manager.register(helmRepositoryReconciler({ storage, indexMaxSize: flags.helmIndexMaxSize }));
  manager.register(
    helmChartReconciler({
      storage,
      indexMaxSize: flags.helmIndexMaxSize,
      chartMaxSize: flags.helmChartMaxSize,
      chartFileMaxSize: flags.helmChartFileMaxSize,
      requeueDependencyMs: flags.requeueDependency,
      authCache,
    }),
  );
  manager.register(
    ociRepositoryReconciler({
      storage,
      authCache,
      ...(flags.artifactMaxSize ? { artifactMaxSize: flags.artifactMaxSize } : {}),
    }),
  );
  manager.log.info({ address: storageAddr, storagePath }, "artifact server listening");
  let running: Promise<void> | undefined;
  return {
    manager,
    storage,
    artifacts,
    run: () => {
      running ??= manager.start().finally(() => Promise.all([artifacts.close(), gitCache.dispose()]));
      return running;
    },
    stop: async () => {
      await manager.stop();
      await running?.catch(() => undefined);
      await artifacts.close();
      await gitCache.dispose();
    },
  };
}
