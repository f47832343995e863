// Starts the controllers as local processes with the args, env and credentials their rendered chart gives them. The
// only changes are the ones a laptop forces, listed in localOverrides(): loopback ports instead of fixed container
// ports, a temp dir instead of the pod's /data volume, and an explicit kubeconfig holding a token of the chart's
// ServiceAccount (with exactly the RBAC the chart binds to it) instead of the pod's mounted token.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBinaries, freePort, ManagedProcess } from "@capstan/cluster";
import { loadKubeConfig } from "@capstan/cluster/testing";
import type { KubeConfig } from "@kubernetes/client-node";
import { type ContainerSpec, type ControllerName, expand, renderChart, repoRoot, resolveEnv } from "./charts.js";
import {
  applyCredentials,
  credentialObjects,
  kubeconfigPathFor,
  permissionRefusals,
  serviceAccountKubeconfig,
  serviceAccountUser,
  waitForGrant,
} from "./credentials.js";

export interface RunningController {
  name: ControllerName;
  /** The chart's ServiceAccount the controller runs as. */
  serviceAccount: string;
  args: string[];
  /** 127.0.0.1:<port> for each address flag, e.g. addresses["storage-addr"]. */
  addresses: Record<string, string>;
  process: ManagedProcess;
  logTail(lines?: number): string;
}

export interface Controllers {
  namespace: string;
  dir: string;
  byName: Map<ControllerName, RunningController>;
  get(name: ControllerName): RunningController;
  /**
   * Log lines where the apiserver refused a controller its own request (not an impersonated tenant's): a permission
   * the chart lacks. A test that ends with this non-empty has found a chart bug.
   */
  permissionRefusals(): string[];
  stop(): Promise<void>;
}

export interface StartOptions {
  /** An admin kubeconfig: it installs the chart's ServiceAccounts and RBAC; the controllers never use it. */
  kubeconfig: string;
  /** The namespace the charts would be installed in (RUNTIME_NAMESPACE); it must exist. */
  namespace: string;
  only?: ControllerName[];
  /** Extra `--set` values for the chart, e.g. "kustomize-controller.multitenancy.enabled=false". */
  set?: string[];
  /**
   * "chart" (default): create the ServiceAccounts and RBAC from `helm template` (release name = the namespace, so
   * parallel environments never share a ClusterRole). "installed": `helm install` already created them in the namespace;
   * only tokens are requested.
   */
  credentials?: "chart" | "installed";
}

/** What each controller reads first, to wait for before it starts: its own kind, cluster-wide. */
const firstRead: Record<ControllerName, { group: string; resource: string }> = {
  "source-controller": { group: "source.toolkit.fluxcd.io", resource: "gitrepositories" },
  "kustomize-controller": { group: "kustomize.toolkit.fluxcd.io", resource: "kustomizations" },
  "helm-controller": { group: "helm.toolkit.fluxcd.io", resource: "helmreleases" },
  "notification-controller": { group: "notification.toolkit.fluxcd.io", resource: "alerts" },
};

/** Rewrites address and storage flags for a local run; everything else is passed through unchanged. */
export async function localOverrides(
  args: string[],
  dir: string,
): Promise<{ args: string[]; addresses: Record<string, string> }> {
  const addresses: Record<string, string> = {};
  const out: string[] = [];
  for (const arg of args) {
    const m = /^--([a-z-]+-addr)=:(\d+)$/.exec(arg);
    if (m?.[1]) {
      const address = `127.0.0.1:${await freePort()}`;
      addresses[m[1]] = address;
      out.push(`--${m[1]}=${address}`);
    } else if (arg.startsWith("--storage-path=")) {
      out.push(`--storage-path=${join(dir, "storage")}`);
    } else if (arg.startsWith("--helm-path=")) {
      // The image's /usr/local/bin/helm: locally the pinned helm on PATH.
      out.push("--helm-path=helm");
    } else if (arg.startsWith("--work-dir=")) {
      out.push(`--work-dir=${join(dir, "helm-work")}`);
    } else {
      out.push(arg);
    }
  }
  // Artifacts are fetched from the advertised address: on a laptop, the storage server's own loopback address.
  const storage = addresses["storage-addr"];
  return {
    args: out.map((a) => (storage && a.startsWith("--storage-adv-addr=") ? `--storage-adv-addr=${storage}` : a)),
    addresses,
  };
}

export async function startControllers(options: StartOptions): Promise<Controllers> {
  const rendered = await renderChart(options.namespace, options.set, options.namespace);
  const wanted = rendered.containers.filter((s) => !options.only || options.only.includes(s.controller));
  const { path } = await ensureBinaries();
  const kc = loadKubeConfig(options.kubeconfig);
  const dir = mkdtempSync(join(tmpdir(), "capstan-controllers-"));
  const byName = new Map<ControllerName, RunningController>();
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    await Promise.all([...byName.values()].map((c) => c.process.stop(10_000)));
    for (const c of cleanups) await c();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    if ((options.credentials ?? "chart") === "chart") {
      const objects = credentialObjects(
        rendered.objects,
        wanted.map((s) => s.controller),
      );
      cleanups.push(await applyCredentials(options.kubeconfig, objects));
    }
    for (const spec of wanted) {
      const kubeconfig = await controllerKubeconfig(kc, spec, options.namespace, dir);
      byName.set(spec.controller, await startOne(spec, options, kubeconfig, dir, path));
    }
    for (const c of byName.values()) await waitReady(c);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    namespace: options.namespace,
    dir,
    byName,
    get(name) {
      const c = byName.get(name);
      if (!c) throw new Error(`${name} was not started`);
      return c;
    },
    permissionRefusals: () =>
      [...byName.values()].flatMap((c) =>
        permissionRefusals(c.process.spec.logFile, options.namespace, c.serviceAccount).map((l) => `${c.name}: ${l}`),
      ),
    stop,
  };
}

/** Waits for the chart's grants to reach the authorizer, then writes a kubeconfig with a token of the ServiceAccount. */
async function controllerKubeconfig(kc: KubeConfig, spec: ContainerSpec, namespace: string, dir: string) {
  const user = serviceAccountUser(namespace, spec.serviceAccountName);
  await waitForGrant(kc, user, { verb: "list", ...firstRead[spec.controller] });
  await waitForGrant(kc, user, { verb: "update", group: "coordination.k8s.io", resource: "leases", namespace });
  return serviceAccountKubeconfig(kc, namespace, spec.serviceAccountName, kubeconfigPathFor(dir, spec.controller));
}

async function startOne(
  spec: ContainerSpec,
  options: StartOptions,
  kubeconfig: string,
  dir: string,
  binPath: string,
): Promise<RunningController> {
  const main = join(repoRoot, "packages", spec.controller, "dist", "main.js");
  if (!existsSync(main)) throw new Error(`${main} is missing: run pnpm build first`);
  const env = resolveEnv(spec.env, options.namespace, `${spec.controller}-local`);
  const local = await localOverrides(
    spec.args.map((a) => expand(a, env)),
    dir,
  );
  const args = [...local.args, `--kubeconfig=${kubeconfig}`];
  const process_ = new ManagedProcess({
    name: spec.controller,
    command: process.execPath,
    args: [main, ...args],
    logFile: join(dir, `${spec.controller}.log`),
    env: { ...process.env, ...env, PATH: `${binPath}:${process.env.PATH ?? ""}`, TMPDIR: dir },
  });
  process_.start();
  return {
    name: spec.controller,
    serviceAccount: spec.serviceAccountName,
    args,
    addresses: local.addresses,
    process: process_,
    logTail: (lines) => process_.logTail(lines),
  };
}

async function waitReady(c: RunningController, timeoutMs = 60_000): Promise<void> {
  const health = c.addresses["health-addr"];
  if (!health) throw new Error(`${c.name}: its chart gives no --health-addr`);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!c.process.running) throw new Error(`${c.name} exited during start:\n${c.logTail()}`);
    if ((await get(`http://${health}/readyz`).catch(() => 0)) === 200) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${c.name} not ready after ${timeoutMs}ms:\n${c.logTail()}`);
}

function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end();
  });
}
