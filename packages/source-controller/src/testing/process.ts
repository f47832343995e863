// The built source-controller (dist/main.js) as a child process, started with its Helm chart's arguments and
// environment after the e2e harness's local rewrites: each `--*-addr=:port` becomes 127.0.0.1:<free port>, the
// storage path a temp dir, the advertised address the storage server's loopback address, plus --kubeconfig.
// The process handling (JSON log, output, lifecycle) is @capstan/cluster's.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ControllerProcess as BaseProcess, freePort, spawnController } from "@capstan/cluster/process";
import { execa } from "execa";

export const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const repoRoot = join(packageDir, "..", "..");
export const distMain = join(packageDir, "dist", "main.js");

/** Builds dist/ of this package and its workspace dependencies (turbo: a no-op when nothing changed). */
export async function buildDist(): Promise<void> {
  await execa(
    join(repoRoot, "node_modules", ".bin", "turbo"),
    ["run", "build", "--filter=@capstan/source-controller..."],
    {
      cwd: repoRoot,
      env: { TURBO_TELEMETRY_DISABLED: "1" },
      stdin: "ignore",
    },
  );
}

export interface ControllerProcessOptions {
  kubeconfig: string;
  /** RUNTIME_NAMESPACE: where the leader election Lease lives. */
  namespace: string;
  storagePath: string;
  /** TMPDIR of the process (checkouts go there). */
  tmpDir: string;
  /** Appended after the chart's arguments (e.g. a --watch-label-selector to share a cluster with other tests). */
  extraArgs?: string[];
  /** Put first on PATH (a git shim). */
  pathPrefix?: string;
  podName?: string;
  /** Fixed storage port, so a restarted controller serves the same URLs. Default: a free port. */
  storagePort?: number;
}

export interface ControllerProcess extends BaseProcess {
  healthUrl: string;
  metricsUrl: string;
  storageAddress: string;
}

/** The chart's container args (charts/source-controller, default values) with the local rewrites. */
export function chartArgs(o: { health: number; metrics: number; storage: number; storagePath: string }): string[] {
  return [
    `--health-addr=127.0.0.1:${o.health}`,
    `--metrics-addr=127.0.0.1:${o.metrics}`,
    "--log-level=info",
    "--log-encoding=json",
    "--watch-all-namespaces=true",
    "--concurrent=4",
    "--leader-elect=true",
    `--storage-path=${o.storagePath}`,
    `--storage-addr=127.0.0.1:${o.storage}`,
    `--storage-adv-addr=127.0.0.1:${o.storage}`,
  ];
}

export async function startControllerProcess(options: ControllerProcessOptions): Promise<ControllerProcess> {
  const [health, metrics] = [await freePort(), await freePort()];
  const storage = options.storagePort ?? (await freePort());
  const args = [
    ...chartArgs({ health, metrics, storage, storagePath: options.storagePath }),
    `--kubeconfig=${options.kubeconfig}`,
    ...(options.extraArgs ?? []),
  ];
  const path = options.pathPrefix ? `${options.pathPrefix}:${process.env.PATH ?? ""}` : (process.env.PATH ?? "");
  const healthUrl = `http://127.0.0.1:${health}`;
  const proc = spawnController({
    name: "source-controller",
    entry: [distMain],
    args,
    env: {
      PATH: path,
      RUNTIME_NAMESPACE: options.namespace,
      POD_NAME: options.podName ?? `source-controller-${process.pid}`,
      TMPDIR: options.tmpDir,
    },
    healthUrl,
  });
  return { ...proc, healthUrl, metricsUrl: `http://127.0.0.1:${metrics}`, storageAddress: `127.0.0.1:${storage}` };
}
