// One side of the benchmark: a namespace of its own, source-controller and the controller under test started as
// their chart starts them (tools/devenv's harness), N objects created, polled until all are Ready; the controllers'
// CPU and memory read from /proc (../peer/proc.ts). The HelmReleases' and Kustomizations' specs are as alike as the
// APIs allow: interval 1h (nothing reruns during the measurement), install/apply waiting for the objects (Helm's
// default; `wait: true` on the Kustomizations), the controllers' chart defaults (--concurrent=4 for both).
import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestNamespace, loadKubeConfig } from "@capstan/cluster/testing";
import { createTestRepo, startGitHttpServer, startHelmRepoServer } from "@capstan/gitserver";
import { KubeClient, type KubeObject } from "@capstan/runtime";
import { type Controllers, startControllers } from "../../tools/devenv/src/harness/controllers.js";
import { appObjects, appTree } from "../kustomize/app.js";
import { cpuSplit, peakRssKiB, sampleTreeRss, treeRssKiB } from "../peer/proc.js";
import { podinfoChart } from "./chart.js";
import { type HelmBreakdown, helmBreakdown } from "./metrics.js";

export type Side = "helm" | "kustomize";

export interface ControllerFigures {
  name: string;
  /** RSS of the process once started, before the first object exists. */
  startKiB: number;
  /** VmHWM of the controller's own process. */
  peakOwnKiB: number;
  /** Highest sampled sum of the RSS of the process and its children (helm, kustomize, git), every 200 ms. */
  peakTreeKiB: number;
  /** CPU seconds during the run: the process plus the children it reaped. */
  cpuSeconds: number;
  /** Of cpuSeconds: the process itself (its event loop, GC, TLS, JSON). */
  ownCpuSeconds: number;
  /** Of cpuSeconds: the children it reaped (helm; kustomize; git). */
  childCpuSeconds: number;
}

export interface SideResult {
  side: Side;
  n: number;
  seconds: number;
  /** The controller under test first, then source-controller. */
  controllers: ControllerFigures[];
  /** helm side: what helm-controller's metrics say about its forks, chart fetches and reconcile steps. */
  helm?: HelmBreakdown;
}

const fieldManager = "capstan-bench";
const interval = "1h";
/** Bounded: the whole run, and a stretch in which not one more object turned Ready. */
const timeoutMs = 120 * 60_000;
const stallMs = 15 * 60_000;

const kinds = {
  helm: { apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", controller: "helm-controller" },
  kustomize: {
    apiVersion: "kustomize.toolkit.fluxcd.io/v1",
    kind: "Kustomization",
    controller: "kustomize-controller",
  },
} as const;

/** The cleanups of the side running now, for a signal handler to run before it exits. */
export const running = new Set<() => Promise<void>>();

export async function runSide(kubeconfig: string, side: Side, n: number): Promise<SideResult> {
  const kc = loadKubeConfig(kubeconfig);
  const client = new KubeClient({ kubeconfigPath: kubeconfig, qps: 0 });
  const ns = await createTestNamespace(kc, `bench-${side}`);
  const { apiVersion, kind, controller } = kinds[side];
  const cleanups: (() => Promise<unknown>)[] = [() => ns.delete()];
  let controllers: Controllers | undefined;
  const cleanup = async () => {
    for (const c of cleanups.splice(0).reverse())
      await c().catch((err: unknown) => process.stderr.write(`cleanup: ${err}\n`));
  };
  running.add(cleanup);
  try {
    controllers = await startControllers({
      kubeconfig,
      namespace: ns.name,
      only: ["source-controller", controller],
      set: [
        "source-controller.watchAllNamespaces=false",
        `${controller}.watchAllNamespaces=false`,
        `${controller}.multitenancy.enabled=false`,
      ],
    });
    const started = controllers;
    // Before the namespace goes: stop the controllers, then drop the finalizers, so deleting the namespace does not
    // wait for N uninstalls (the release Secrets and objects go with the namespace).
    cleanups.push(() => dropFinalizers(client, ns.name));
    cleanups.push(() => started.stop());

    const make = await source(side, ns.name, client, cleanups);
    const pids = [started.get(controller), started.get("source-controller")].map((c) => {
      if (!c.process.pid) throw new Error(`${c.name} has no pid`);
      return c.process.pid;
    });
    const startKiB = await Promise.all(pids.map((p) => treeRssKiB(p)));
    const cpu0 = await Promise.all(pids.map((p) => cpuSplit(p)));
    const sampler = sampleTreeRss(pids);
    const t0 = Date.now();
    await inBatches(n, 16, (i) => client.apply(make(i), { fieldManager }));
    const resource = await client.resourceFor(apiVersion, kind);
    // Listing N objects is work for the apiserver on the same cores: every second up to 100, less often above. The
    // end time is the latest Ready transition (the apiserver's clock, 1 s resolution), so polling less loses nothing.
    const pollMs = Math.max(1000, n * 10);
    let lastReport = 0;
    let progress = { ready: -1, at: Date.now() };
    let end = 0;
    for (;;) {
      const { items } = await client.list(resource, { namespace: ns.name });
      const ready = items.filter(isReady).length;
      if (ready === n) {
        end = Math.max(...items.map(readySince));
        break;
      }
      if (ready !== progress.ready) progress = { ready, at: Date.now() };
      if (Date.now() - lastReport > 30_000) {
        lastReport = Date.now();
        const cpu = await cpuSplit(pids[0] as number);
        const own = cpu.own - (cpu0[0]?.own ?? 0);
        const children = cpu.children - (cpu0[0]?.children ?? 0);
        process.stderr.write(
          `  ${((Date.now() - t0) / 1000).toFixed(0)} s: ${ready}/${n} Ready; ${controller} CPU s ${own.toFixed(1)} own + ` +
            `${children.toFixed(1)} children; load ${await loadAverage()}\n`,
        );
      }
      const stuck = Date.now() - progress.at > stallMs;
      if (Date.now() - t0 > timeoutMs || stuck) {
        throw new Error(
          `${ready}/${n} ${kind}s Ready after ${((Date.now() - t0) / 60_000).toFixed(0)} min` +
            `${stuck ? ` (none more in ${stallMs / 60_000} min)` : ""}\n${started.get(controller).logTail(20)}`,
        );
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
    // The list that saw all Ready may come a poll after the last transition; the transitions are second-granular.
    const seconds = Math.max(0, (Math.max(end, 0) || Date.now()) - t0) / 1000;
    sampler.stop();
    const cpu1 = await Promise.all(pids.map((p) => cpuSplit(p)));
    const metricsAddr = started.get(controller).addresses["metrics-addr"];
    const helm = side === "helm" && metricsAddr ? await helmBreakdown(metricsAddr) : undefined;
    const own = await Promise.all(pids.map((p) => peakRssKiB(p)));
    const peaks = sampler.peak();
    return {
      side,
      n,
      seconds,
      controllers: [controller, "source-controller"].map((name, i) => ({
        name,
        startKiB: startKiB[i] ?? 0,
        peakOwnKiB: own[i] ?? 0,
        peakTreeKiB: peaks[i] ?? 0,
        cpuSeconds: total(cpu1[i]) - total(cpu0[i]),
        ownCpuSeconds: (cpu1[i]?.own ?? 0) - (cpu0[i]?.own ?? 0),
        childCpuSeconds: (cpu1[i]?.children ?? 0) - (cpu0[i]?.children ?? 0),
      })),
      ...(helm ? { helm } : {}),
    };
  } finally {
    await cleanup();
    running.delete(cleanup);
    client.close();
  }
}

/** Sets up the side's source; returns the maker of the i-th HelmRelease or Kustomization. */
async function source(
  side: Side,
  namespace: string,
  client: KubeClient,
  cleanups: (() => Promise<unknown>)[],
): Promise<(i: number) => KubeObject> {
  if (side === "helm") {
    const repo = await startHelmRepoServer();
    cleanups.push(() => repo.close());
    await repo.publish(podinfoChart("1.0.0"));
    await client.apply(
      {
        apiVersion: "source.toolkit.fluxcd.io/v1",
        kind: "HelmRepository",
        metadata: { name: "charts", namespace },
        spec: { url: repo.url, interval },
      },
      { fieldManager },
    );
    return (i) => ({
      apiVersion: kinds.helm.apiVersion,
      kind: kinds.helm.kind,
      metadata: { name: `r${i}`, namespace },
      spec: {
        interval,
        timeout: "5m",
        chart: {
          spec: { chart: "podinfo", version: "1.0.0", interval, sourceRef: { kind: "HelmRepository", name: "charts" } },
        },
      },
    });
  }
  const root = mkdtempSync(join(tmpdir(), "capstan-bench-helm-git-"));
  cleanups.push(async () => rmSync(root, { recursive: true, force: true }));
  const git = await startGitHttpServer({ root });
  cleanups.push(() => git.close());
  const repo = await createTestRepo(root, "app.git");
  await repo.commit(appTree(appObjects("")));
  await client.apply(
    {
      apiVersion: "source.toolkit.fluxcd.io/v1",
      kind: "GitRepository",
      metadata: { name: "app", namespace },
      spec: { url: `${git.url}/app.git`, interval, ref: { branch: "main" } },
    },
    { fieldManager },
  );
  return (i) => ({
    apiVersion: kinds.kustomize.apiVersion,
    kind: kinds.kustomize.kind,
    metadata: { name: `k${i}`, namespace },
    spec: {
      interval,
      timeout: "5m",
      path: "./",
      prune: true,
      wait: true,
      namePrefix: `k${i}-`,
      // The objects in Git carry no namespace; the HelmReleases release into their own namespace likewise.
      targetNamespace: namespace,
      sourceRef: { kind: "GitRepository", name: "app" },
    },
  });
}

const total = (c: { own: number; children: number } | undefined) => (c ? c.own + c.children : 0);

async function loadAverage(): Promise<string> {
  const text = await readFile("/proc/loadavg", "utf8").catch(() => "");
  return text.split(" ").slice(0, 3).join(", ");
}

/** When the object's Ready condition last turned (ms since the epoch; 0 when unknown). */
function readySince(obj: KubeObject): number {
  const status = obj.status as { conditions?: { type: string; lastTransitionTime?: string }[] };
  const t = status?.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime;
  const ms = t ? Date.parse(t) : Number.NaN;
  return Number.isNaN(ms) ? 0 : ms;
}

function isReady(obj: KubeObject): boolean {
  const status = obj.status as { conditions?: { type: string; status: string; observedGeneration?: number }[] };
  const ready = status?.conditions?.find((c) => c.type === "Ready");
  return ready?.status === "True" && ready.observedGeneration === obj.metadata.generation;
}

async function inBatches(n: number, inFlight: number, each: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await each(next++);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, n) }, worker));
}

async function dropFinalizers(client: KubeClient, namespace: string): Promise<void> {
  const types = [
    ["helm.toolkit.fluxcd.io/v2", "HelmRelease"],
    ["kustomize.toolkit.fluxcd.io/v1", "Kustomization"],
    ["source.toolkit.fluxcd.io/v1", "HelmChart"],
    ["source.toolkit.fluxcd.io/v1", "HelmRepository"],
    ["source.toolkit.fluxcd.io/v1", "GitRepository"],
  ] as const;
  for (const [apiVersion, kind] of types) {
    const { items } = await client.list(await client.resourceFor(apiVersion, kind), { namespace });
    for (const obj of items) {
      if (!obj.metadata.finalizers?.length) continue;
      await client.mergePatch(
        { apiVersion, kind, name: obj.metadata.name, namespace },
        { metadata: { finalizers: null } },
      );
    }
  }
}
