// One measured scenario per child process, so that each peak RSS is its own. Every scenario runs the real
// kustomize-controller (reconciler, runtime Manager, drift watch) in this process through the package's test harness.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { ensureBinaries } from "@capstan/cluster";
import { KubeClient, type KubeObject } from "@capstan/runtime";
import { stringify } from "yaml";
import { KustomizeLabels } from "../../packages/api/src/annotations.js";
import { ApplyEngine } from "../../packages/kustomize-controller/src/apply/engine.js";
import { kustomizeApplyOptions } from "../../packages/kustomize-controller/src/apply/options.js";
import { Harness } from "../../packages/kustomize-controller/src/testing/harness.js";
import { appObjects, appTree, manyApps } from "./app.js";

export interface Env {
  kubeconfig: string;
  kustomize: string;
}

type Kustomization = KubeObject & {
  status?: {
    lastAppliedRevision?: string;
    conditions?: { type: string; status: string; message?: string }[];
    history?: { totalReconciliations?: number }[];
  };
};

const peakRss = () => process.resourceUsage().maxRSS * 1024;

async function namespace(client: KubeClient, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
  return name;
}

async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

/** N Kustomizations built from one artifact (namePrefix per app): time from the first create to all Ready. */
export async function ready(env: Env, n: number, concurrent: number, wait: boolean) {
  const admin = new KubeClient({ kubeconfigPath: env.kubeconfig, qps: 0 });
  const ns = await namespace(admin, `bench-ks-${n}`);
  const h = await new Harness({
    kubeconfigPath: env.kubeconfig,
    namespace: ns,
    kustomizeBinary: env.kustomize,
    flags: [`--concurrent=${concurrent}`],
    // The chart's client limits (Flux's defaults).
    qps: 50,
    burst: 300,
  }).start();
  const baselineRss = process.memoryUsage().rss;
  try {
    const a = await h.artifact(appTree(appObjects("")));
    await h.publish("repo", a);
    const started = performance.now();
    await pool(
      Array.from({ length: n }, (_, i) => i),
      32,
      (i) =>
        h.kustomization(`app-${i}`, {
          interval: "1h",
          timeout: "5m",
          targetNamespace: ns,
          namePrefix: `app-${i}-`,
          wait,
        }),
    );
    const created = performance.now() - started;
    const type = await admin.resourceFor("kustomize.toolkit.fluxcd.io/v1", "Kustomization");
    let readyCount = 0;
    const deadline = Date.now() + Math.max(600_000, n * 3000);
    while (readyCount < n) {
      await sleep(500);
      const { items } = await admin.list<Kustomization>(type, { namespace: ns });
      readyCount = items.filter(
        (k) =>
          k.status?.lastAppliedRevision === a.revision &&
          k.status.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
      ).length;
      if (Date.now() > deadline) {
        const stuck = items.find((k) => !k.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
        throw new Error(`${n - readyCount} of ${n} not Ready, e.g. ${JSON.stringify(stuck?.status?.conditions)}`);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      scenario: "ready",
      n,
      concurrent,
      wait,
      seconds,
      createSeconds: created / 1000,
      baselineRssBytes: baselineRss,
      peakRssBytes: peakRss(),
      requests: h.requests.calls(),
    };
  } finally {
    await h.stop();
    admin.close();
  }
}

/** API requests per interval of one Kustomization of `objects` objects whose source and objects do not change. */
export async function noop(env: Env, objects: number, intervals: number, driftWatch: boolean, fullEvery: number) {
  const admin = new KubeClient({ kubeconfigPath: env.kubeconfig, qps: 0 });
  const ns = await namespace(admin, "bench-noop");
  const h = await new Harness({
    kubeconfigPath: env.kubeconfig,
    namespace: ns,
    kustomizeBinary: env.kustomize,
    flags: [`--drift-watch=${driftWatch}`, `--full-apply-every=${fullEvery}`],
    options: { driftWatch, fullApplyEvery: fullEvery },
    qps: 50,
    burst: 300,
  }).start();
  try {
    const apps = manyApps(Math.ceil(objects / 4)).slice(0, objects);
    const a = await h.artifact(appTree(apps));
    await h.publish("repo", a);
    const started = performance.now();
    await h.kustomization("big", { interval: "10s", timeout: "5m", targetNamespace: ns });
    const total = async () => (await h.getKustomization("big"))?.status?.history?.[0]?.totalReconciliations ?? 0;
    while ((await h.getKustomization("big"))?.status?.lastAppliedRevision !== a.revision) await sleep(200);
    const firstApply = (performance.now() - started) / 1000;
    if (driftWatch) {
      while (!h.kustomize.drift?.token(["apps/Deployment", "/ServiceAccount", "/Service", "networking.k8s.io/Ingress"]))
        await sleep(200);
    }
    // Let the reconcile that follows the first (the watch was not yet synced for it) pass, then measure.
    let seen = await total();
    while ((await total()) === seen) await sleep(100);
    seen = await total();
    h.requests.reset();
    const perInterval: { requests: number; sourceGets: number; builds: number; seconds: number }[] = [];
    let t = performance.now();
    // Builds that ran (the build cache's misses; without the cache, every reconcile builds).
    const builds = () => h.kustomize.buildCache?.misses ?? Number.NaN;
    let buildsBefore = builds();
    while (perInterval.length < intervals) {
      await sleep(50);
      const now = await total();
      if (now === seen) continue;
      seen = now;
      perInterval.push({
        requests: h.requests.calls(),
        sourceGets: h.requests.total((k) => k === "get gitrepositories"),
        builds: builds() - buildsBefore,
        seconds: (performance.now() - t) / 1000,
      });
      buildsBefore = builds();
      h.requests.reset();
      t = performance.now();
    }
    return {
      scenario: "noop",
      objects,
      driftWatch,
      fullEvery,
      firstApplySeconds: firstApply,
      perInterval: perInterval.map((p) => p.requests),
      sourceGetsPerInterval: perInterval.map((p) => p.sourceGets),
      buildsPerInterval: perInterval.map((p) => p.builds),
      peakRssBytes: peakRss(),
    };
  } finally {
    await h.stop();
    admin.close();
  }
}

/**
 * Apply time of `objects` objects: Capstan's staged apply (read, dry-run, apply what drifted) against the pinned
 * `kubectl apply --server-side` of the same objects as one YAML file, and against a plain loop of one server-side apply
 * request per object through the runtime client (unlimited). Each on a fresh namespace, creating first, then again
 * with nothing changed.
 */
export async function ratio(env: Env, objects: number) {
  const client = new KubeClient({ kubeconfigPath: env.kubeconfig, qps: 0 });
  try {
    const nsOurs = await namespace(client, "bench-apply-ours");
    const nsLoop = await namespace(client, "bench-apply-loop");
    const nsKubectl = await namespace(client, "bench-apply-kubectl");
    const engine = new ApplyEngine({
      client,
      fieldManager: "kustomize-controller",
      ownerLabels: KustomizeLabels,
    });
    const ours = engine.withOwnerLabels(manyApps(Math.ceil(objects / 4), nsOurs).slice(0, objects), "bench", nsOurs);
    const loop = engine.withOwnerLabels(manyApps(Math.ceil(objects / 4), nsLoop).slice(0, objects), "bench", nsLoop);
    const viaKubectl = engine.withOwnerLabels(
      manyApps(Math.ceil(objects / 4), nsKubectl).slice(0, objects),
      "bench",
      nsKubectl,
    );
    const file = join(tmpdir(), `bench-kubectl-${randomBytes(4).toString("hex")}.yaml`);
    writeFileSync(file, viaKubectl.map((o) => stringify(o)).join("---\n"));
    const { bin } = await ensureBinaries();
    const kubectl = () =>
      promisify(execFile)(
        bin.kubectl,
        ["apply", "--server-side", "--force-conflicts", "-f", file, `--kubeconfig=${env.kubeconfig}`],
        { maxBuffer: 64 * 1024 * 1024 },
      );
    const opts = kustomizeApplyOptions("kustomize-controller", { timeoutMs: 300_000 });
    const timed = async (fn: () => Promise<unknown>) => {
      const t = performance.now();
      await fn();
      return (performance.now() - t) / 1000;
    };
    const plain = async () => {
      for (const o of loop) await client.apply(o, { fieldManager: "kubectl", force: true });
    };
    const createOurs = await timed(() => engine.applyAllStaged(ours, opts));
    const createLoop = await timed(plain);
    const againOurs = await timed(() => engine.applyAllStaged(ours, opts));
    const againLoop = await timed(plain);
    const createKubectl = await timed(kubectl);
    const againKubectl = await timed(kubectl);
    rmSync(file, { force: true });
    return { scenario: "ratio", objects, createOurs, createLoop, againOurs, againLoop, createKubectl, againKubectl };
  } finally {
    client.close();
  }
}
