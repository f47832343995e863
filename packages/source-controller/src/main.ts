#!/usr/bin/env node
// source-controller: flags → wiring.
import { mkdir } from "node:fs/promises";
import { hostname } from "node:os";
import { FlagError, KubeClient, Manager, parseFlags } from "@capstan/runtime";
import { controllerName, sourceControllerFlags } from "./flags.js";
import { gitRepositoryReconciler } from "./gitrepository/definition.js";
import { startArtifactServer } from "./server/server.js";
import { Storage } from "./storage/storage.js";

/** The advertised address Flux falls back to: this host's name with the storage port. */
function advertisedAddress(flag: string, storageAddr: string): string {
  if (flag) return flag;
  const port = storageAddr.slice(storageAddr.lastIndexOf(":") + 1) || "9090";
  return `${hostname()}:${port}`;
}

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parseFlags(controllerName, sourceControllerFlags, argv);
  if (parsed.help) {
    process.stdout.write(parsed.usage);
    return 0;
  }
  const flags = parsed.values;
  const storagePath = flags.storagePath || env.STORAGE_PATH || "/data";
  const storageAddr = flags.storageAddr || env.STORAGE_ADDR || ":9090";
  await mkdir(storagePath, { recursive: true });
  const storage = new Storage({
    root: storagePath,
    advertisedAddress: advertisedAddress(flags.storageAdvAddr || env.STORAGE_ADV_ADDR || "", storageAddr),
    retentionRecords: flags.artifactRetentionRecords,
    retentionTtlMs: flags.artifactRetentionTtl,
  });
  const client = KubeClient.fromFlags(flags, controllerName);
  const manager = new Manager({ name: controllerName, flags, client });
  manager.register(
    gitRepositoryReconciler({
      storage,
      requeueDependencyMs: flags.requeueDependency,
      ...(flags.artifactMaxSize ? { artifactMaxSize: flags.artifactMaxSize } : {}),
    }),
  );
  // Every replica serves artifacts (as Flux does): only the leader writes them, any can be asked for them.
  const server = await startArtifactServer({
    root: storagePath,
    address: storageAddr,
    onError: (err) => manager.log.error({ err: { message: err.message } }, "artifact server error"),
  });
  manager.log.info({ address: storageAddr, storagePath }, "artifact server listening");
  try {
    await manager.start();
    return 0;
  } finally {
    await server.close();
    client.close();
  }
}

main(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${controllerName}: ${err instanceof FlagError ? err.message : String(err)}\n`);
    process.exit(err instanceof FlagError ? 2 : 1);
  },
);
