// Capstan beside the real Flux controllers (source-controller and kustomize-controller, built from Flux's Go modules
// by build-flux.sh), in the shape of Flux's published benchmark: N apps (GitRepository + Kustomization each, see
// workload.ts); start = one `kubectl apply --server-side` of all 2N objects, stop = all Ready; then an upgrade (one
// postBuild variable changed in every Kustomization, applied the same way) until all Ready again. Each run gets its
// own fresh control plane; the sides run one after the other, never at once. Prints one Markdown table on stdout
// (progress on stderr) whose last line is `capstan/flux ready ratio: <x>` (the headline row: same limits on both).
//   pnpm --filter @capstan/bench peer -- --apps 100
//   pnpm --filter @capstan/bench peer -- --apps 10 --rows same --order capstan,flux
//   pnpm --filter @capstan/bench peer -- --apps 40 --shards 2 --rows same     # K shards of each controller per side
//   pnpm --filter @capstan/bench peer -- --apps 1000 --side capstan --skip-upgrade --idle-seconds 120
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { ensureBinaries, startControlPlane } from "@capstan/cluster";
import { createTestRepo, startGitHttpServer } from "@capstan/gitserver";
import { KubeClient, type KubeObject } from "@capstan/runtime";
import { ensureCrds } from "../../packages/api/src/testing/index.js";
import {
  type BenchEvent,
  type DeploymentTimeline,
  deploymentTimeline,
  eventSummary,
  type RequestFigures,
  requestCounts,
  requestDelta,
  requestFigures,
  writeVerbs,
} from "./cluster.js";
import { cpuSeconds, peakRssKiB, resetPeakRss, sampleTreeRss } from "./proc.js";
import {
  chartArgs,
  cpuPercentOfCore,
  fluxSelectorArgs,
  formatValue,
  loggedNames,
  type ProcessFigures,
  processesOf,
  processLabel,
  processRows,
  reconciledNames,
  shardNames,
  shardOfApp,
  strayReconciles,
} from "./shards.js";
import {
  buildCapstan,
  type ControllerName,
  chartEnv,
  chartNodeOptions,
  controllers,
  imageNodeArgs,
  kcmArgs,
  type Limits,
  type Side,
  startCapstan,
  startFlux,
} from "./sides.js";
import { appsNamespace, appsYaml, checkApplied, fluxNamespace, repoFiles, untilAllReady } from "./workload.js";

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

const { values } = parseArgs({
  // pnpm passes the `--` of `pnpm peer -- --apps 10` through.
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: {
    apps: { type: "string", default: "100" },
    concurrent: { type: "string", default: "4" },
    qps: { type: "string", default: "50" },
    burst: { type: "string", default: "300" },
    rows: { type: "string", default: "same,defaults" },
    order: { type: "string", default: "flux,capstan" },
    // Capstan's NODE_OPTIONS instead of the charts' nodeOptions (an experiment; the table says so).
    "node-options": { type: "string" },
    // Capstan's node flags instead of the images' (the Dockerfile's ENTRYPOINT), space-separated; "" for none.
    "node-args": { type: "string" },
    // Stop at all Ready (no upgrade): about half the run, for large N on a busy machine; CPU then covers the apply.
    "skip-upgrade": { type: "boolean", default: false },
    // K shards of source- and kustomize-controller on each side besides the main ones, as the charts install them.
    shards: { type: "string", default: "0" },
    // One side only (the large runs): the same as --order <side>.
    side: { type: "string" },
    // kube-controller-manager's client QPS (burst 1.5 × it) on both sides' control planes; unset: its defaults (20,
    // 30), which pace every Deployment rollout (bench/peer/README.md). An environment row, never the headline.
    "kcm-qps": { type: "string" },
    // The quiet window after the last all-Ready over which each process's idle CPU is measured; 0: none.
    "idle-seconds": { type: "string", default: "120" },
  },
});
const n = Number(values.apps);
if (!Number.isInteger(n) || n < 1) throw new Error(`--apps must be a positive integer, got ${values.apps}`);
const same: Limits = { concurrent: Number(values.concurrent), qps: Number(values.qps), burst: Number(values.burst) };
const rows = values.rows.split(",") as ("same" | "defaults")[];
type SideName = "flux" | "capstan";
const order = (values.side ?? values.order).split(",") as SideName[];
for (const o of order) if (o !== "flux" && o !== "capstan") throw new Error(`unknown side ${o}: flux or capstan`);
const k = Number(values.shards);
const shards = shardNames(k);
const processes = processesOf(k);
const idleSeconds = Number(values["idle-seconds"]);
if (!(idleSeconds >= 0)) throw new Error(`--idle-seconds must be >= 0, got ${values["idle-seconds"]}`);

const controllerManagerArgs = kcmArgs(values["kcm-qps"]);

const log = (m: string) => process.stderr.write(`[peer] ${m}\n`);
const uptime = async () => (await readFile("/proc/loadavg", "utf8")).split(" ").slice(0, 3).join(" ");

interface Result {
  readySeconds: number;
  upgradeSeconds: number;
  /** In the order of `processes`. */
  processes: ProcessFigures[];
  /** What the cluster did: [the apply, the upgrade] (cluster.ts). */
  cluster: { timeline: DeploymentTimeline; requests: RequestFigures }[];
}

// --- build everything first, so no build runs while anything is measured
const withFlux = order.includes("flux");
let fluxDirs: string[] = [];
let fluxBins = {} as Record<ControllerName, string>;
if (withFlux) {
  log("building Flux's controllers (bench/peer/build-flux.sh; a cold build takes many minutes)");
  const { stdout: fluxPath } = await run("bash", [join(here, "build-flux.sh")], { maxBuffer: 16 * 1024 * 1024 });
  fluxDirs = fluxPath.trim().split("\n").at(-1)?.split(":") ?? [];
  fluxBins = Object.fromEntries(
    controllers.map((c) => {
      const dir = fluxDirs.find((d) => d.includes(`/flux-${c}-`));
      if (!dir) throw new Error(`build-flux.sh printed no directory for ${c}: ${fluxPath}`);
      return [c, join(dir, c)];
    }),
  ) as Record<ControllerName, string>;
}
log("building Capstan's controllers (turbo)");
await buildCapstan();
const binaries = await ensureBinaries();
const kubectl = binaries.bin.kubectl;

/** Flux's CRDs, from the same module zips the binaries were built from (go mod download gives their directory). */
async function fluxCrdDirs(): Promise<string[]> {
  const dirs: string[] = [];
  for (const c of controllers) {
    const wrapper = join(here, "go", c);
    const mod = `github.com/fluxcd/${c}`;
    const version = new RegExp(`^\\s*(?:require\\s+)?${mod.replaceAll(".", "\\.")} (v\\S+)`, "m").exec(
      await readFile(join(wrapper, "go.mod"), "utf8"),
    )?.[1];
    if (!version) throw new Error(`no version of ${mod} in ${wrapper}/go.mod`);
    const { stdout } = await run("go", ["mod", "download", "-json", `${mod}@${version}`], {
      cwd: wrapper,
      env: { ...process.env, GOFLAGS: "-mod=mod", GOTOOLCHAIN: "local", PATH: `${process.env.PATH}:/usr/local/go/bin` },
    });
    dirs.push(join((JSON.parse(stdout) as { Dir: string }).Dir, "config", "crd", "bases"));
  }
  return dirs;
}
const crdDirs = withFlux ? await fluxCrdDirs() : [];

// The charts as `helm template` renders them with these shards and multi-tenancy off: each Capstan process gets its
// Deployment's args (today: the --watch-label-selector; the bench sets ports, storage, logging and limits itself).
const rendered = Object.fromEntries(
  await Promise.all(
    controllers.map(async (c) => {
      // Multi-tenancy off: Flux runs without its lockdown flags too, and the bench's apps name no service account.
      const set = [
        ...(c === "kustomize-controller" ? ["--set", "multitenancy.enabled=false"] : []),
        ...(shards.length > 0 ? ["--set", `shards={${shards.join(",")}}`] : []),
      ];
      const { stdout } = await run(
        binaries.bin.helm,
        ["template", "bench", join(here, "..", "..", "charts", c), ...set],
        {
          maxBuffer: 16 * 1024 * 1024,
        },
      );
      return [c, stdout] as const;
    }),
  ),
) as Record<ControllerName, string>;
const capstanArgs = (c: ControllerName, shard: string | undefined) => chartArgs(rendered[c], c, shard);
const fluxArgs = (_: ControllerName, shard: string | undefined) => fluxSelectorArgs(shard, k);
for (const p of processes) {
  log(
    `${processLabel(p)}: Capstan ${JSON.stringify(capstanArgs(p.controller, p.shard))}, Flux ${JSON.stringify(fluxArgs(p.controller, p.shard))}`,
  );
}

const work = await mkdtemp(join(tmpdir(), "capstan-bench-peer-"));
const gitRoot = join(work, "git");
await mkdir(gitRoot, { recursive: true });
const git = await startGitHttpServer({ root: gitRoot });
const repo = await createTestRepo(gitRoot, "app.git", "main");
await repo.commit(repoFiles());
const gitUrl = `${git.url}/app.git`;

async function measure(side: SideName, limits: Limits | undefined, label: string): Promise<Result> {
  const dir = join(work, `${label}-${side}`);
  await mkdir(dir, { recursive: true });
  log(`${label}/${side}: starting a control plane (load ${await uptime()})`);
  const plane = await startControlPlane({ workloads: true, baseDir: dir, controllerManagerArgs });
  const kc = ["--kubeconfig", plane.kubeconfig];
  const client = new KubeClient({ kubeconfigPath: plane.kubeconfig, qps: 0 });
  let running: Side | undefined;
  try {
    if (side === "flux") {
      for (const d of crdDirs) await run(kubectl, [...kc, "apply", "--server-side", "-f", d]);
      await run(kubectl, [...kc, "wait", "--for=condition=Established", "--timeout=120s", "crd", "--all"]);
    } else {
      await ensureCrds(plane.kubeconfig);
    }
    for (const ns of [fluxNamespace, appsNamespace]) {
      await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    }
    const options = {
      kubeconfig: plane.kubeconfig,
      dir,
      limits,
      namespace: fluxNamespace,
      shards,
      extraArgs: side === "flux" ? fluxArgs : capstanArgs,
      ...(values["node-options"] !== undefined ? { nodeOptions: values["node-options"] } : {}),
      ...(values["node-args"] !== undefined ? { nodeArgs: values["node-args"].split(" ").filter(Boolean) } : {}),
    };
    running =
      side === "flux" ? await startFlux(fluxBins, options) : await startCapstan(binaries.bin.kustomize, options);
    const pids = running.controllers.map((c) => c.pid);
    const labels = running.controllers.map((c) =>
      processLabel({ controller: c.name, ...(c.shard ? { shard: c.shard } : {}) }),
    );
    if (labels.join() !== processes.map(processLabel).join())
      throw new Error(`started ${labels.join()}, expected ${processes.map(processLabel).join()}`);
    const cpu0 = await Promise.all(pids.map(cpuSeconds));
    const sampler = sampleTreeRss(pids);
    // 6 s per app: at N = 10,000 almost 17 h, above any run this machine makes.
    const timeoutMs = Math.max(600_000, n * 6_000);
    const apiRequests = async () =>
      requestCounts((await run(kubectl, [...kc, "get", "--raw", "/metrics"], { maxBuffer: 64 * 1024 * 1024 })).stdout);
    const cluster: Result["cluster"] = [];
    const apply = async (version: string) => {
      const file = join(dir, `apps-${version}.yaml`);
      await writeFile(file, appsYaml(n, gitUrl, version, k));
      const before = await apiRequests();
      const startWall = Date.now();
      const t0 = performance.now();
      await run(kubectl, [...kc, "apply", "--server-side", "--field-manager=bench", "-f", file], {
        maxBuffer: 64 * 1024 * 1024,
      });
      try {
        const seconds = ((await untilAllReady(client, n, timeoutMs)) - t0) / 1000;
        const after = await apiRequests();
        const requests = requestFigures(before, after);
        const writes = requestDelta(before, after).filter(([key]) => writeVerbs.has(key.split(" ")[0] ?? ""));
        log(
          `${label}/${side} ${version}: apiserver writes per app, apply → all Ready: ${writes
            .slice(0, 14)
            .map(([key, d]) => `${key} ${(d / n).toFixed(2)}`)
            .join(", ")}`,
        );
        cluster.push({ timeline: deploymentTimeline(await checkApplied(client, n, version), startWall), requests });
        const events = await client.list<BenchEvent>(await client.resourceFor("v1", "Event"));
        log(
          `${label}/${side} ${version}: Events since the apply (component reason: objects/occurrences per app): ${eventSummary(
            events.items,
            startWall,
          )
            .map(([key, objects, count]) => `${key} ${(objects / n).toFixed(2)}/${(count / n).toFixed(2)}`)
            .join(", ")}`,
        );
        return seconds;
      } catch (err) {
        const tails = running?.controllers.map((c) => `--- ${c.name}\n${c.tail()}`).join("\n");
        throw new Error(`${label}/${side}: ${(err as Error).message}\n${tails}`, { cause: err });
      }
    };
    log(`${label}/${side}: applying ${2 * n} objects`);
    // Each VmHWM is read before the bench's own /metrics scrapes and reset after them (proc.ts, resetPeakRss).
    const hwmStart = await Promise.all(pids.map(peakRssKiB));
    if (side === "capstan") log(`${label}/${side}: memory at start:\n${await memoryOf(running)}`);
    await Promise.all(pids.map(resetPeakRss));
    const t0 = performance.now();
    const readySeconds = await apply("6.7.0");
    log(`${label}/${side}: all Ready in ${readySeconds.toFixed(1)} s${values["skip-upgrade"] ? "" : "; upgrading"}`);
    if (k > 0) await checkShardStorage(client, running);
    const hwmApply = await Promise.all(pids.map(peakRssKiB));
    const atReady = side === "capstan" ? await traceOf(running) : new Map();
    await Promise.all(pids.map(resetPeakRss));
    const upgradeSeconds = values["skip-upgrade"] ? Number.NaN : await apply("6.7.1");
    if (!values["skip-upgrade"]) log(`${label}/${side}: upgrade Ready in ${upgradeSeconds.toFixed(1)} s`);
    const hwmUpgrade = await Promise.all(pids.map(peakRssKiB));
    const atUpgrade = side === "capstan" ? await traceOf(running) : new Map();
    if (atReady.size > 0) {
      log(`${label}/${side}: memory at all Ready:\n${await memoryOf(running)}`);
      log(`${label}/${side}: reconcile trace, apply → all Ready:\n${formatTrace(atReady)}`);
      if (!values["skip-upgrade"]) {
        log(`${label}/${side}: reconcile trace, upgrade only:\n${formatTrace(diffTrace(atUpgrade, atReady))}`);
      }
    }
    const cpu1 = await Promise.all(pids.map(cpuSeconds));
    const hwm = pids.map((_, i) => Math.max(hwmStart[i] ?? 0, hwmApply[i] ?? 0, hwmUpgrade[i] ?? 0));
    sampler.stop();
    const tree = sampler.peak();
    // Idle: nothing changes for the quiet window (interval 60m), so this is the controllers' cost of holding N apps.
    let idle = pids.map(() => Number.NaN);
    if (idleSeconds > 0) {
      log(`${label}/${side}: measuring idle CPU over ${idleSeconds} s`);
      const w0 = performance.now();
      await new Promise((r) => setTimeout(r, idleSeconds * 1000));
      const cpu2 = await Promise.all(pids.map(cpuSeconds));
      const wall = (performance.now() - w0) / 1000;
      idle = cpu2.map((c, i) => cpuPercentOfCore(cpu1[i] ?? 0, c, wall));
    }
    const reconciled = await ownership(running, `${label}/${side}`);
    log(
      `${label}/${side}: ${((performance.now() - t0) / 1000).toFixed(0)} s from the apply to the end of the idle window`,
    );
    return {
      readySeconds,
      upgradeSeconds,
      cluster,
      processes: pids.map((_, i) => ({
        cpu: (cpu1[i] ?? Number.NaN) - (cpu0[i] ?? 0),
        hwmKiB: hwm[i] ?? Number.NaN,
        treePeakKiB: tree[i] ?? Number.NaN,
        idlePercent: idle[i] ?? Number.NaN,
        ...(reconciled[i] ? { reconciled: reconciled[i] } : {}),
      })),
    };
  } finally {
    await running?.stop();
    client.close();
    await plane.stop();
  }
}

// A side left out with --order or --side shows as NaN.
const missing: Result = { readySeconds: Number.NaN, upgradeSeconds: Number.NaN, processes: [], cluster: [] };
const loadBefore = await uptime();
const results: { row: "same" | "defaults"; flux: Result; capstan: Result }[] = [];
try {
  for (const row of rows) {
    const limits = row === "same" ? same : undefined;
    const got: Partial<Record<SideName, Result>> = {};
    for (const side of order) got[side] = await measure(side, limits, row);
    results.push({ row, flux: got.flux ?? missing, capstan: got.capstan ?? missing });
  }
} finally {
  await git.close();
  await rm(work, { recursive: true, force: true });
}

const s = (x: number) => `${x.toFixed(1)} s`;
const ratio = (c: number, f: number) => (c / f).toFixed(2);
const lines = [
  `N = ${n} apps (${2 * n} objects applied at once, ${4 * n} workload objects); Flux: ${fluxDirs.map((d) => d.split("/").at(-1)).join(", ")}; node ${process.version}; load average ${loadBefore} before, ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")} after`,
  ...(k > 0
    ? [
        `--shards ${k}: each side runs a main source- and kustomize-controller (--watch-label-selector=!sharding.fluxcd.io/key) and ${k} shard processes of each (sharding.fluxcd.io/key in (shard<i>)); app i is labelled shard<(i mod ${k}) + 1>`,
      ]
    : []),
  ...(values["skip-upgrade"]
    ? ["--skip-upgrade: no upgrade; CPU and memory cover start-up and the apply to all Ready"]
    : []),
  ...(idleSeconds > 0
    ? [
        `idle CPU: each process's CPU (self + children) over ${idleSeconds} s after the last all-Ready, as % of one core`,
      ]
    : []),
  ...(controllerManagerArgs.length > 0
    ? [
        `--kcm-qps ${values["kcm-qps"]}: kube-controller-manager runs with ${controllerManagerArgs.join(" ")} on both sides (its defaults are 20 and 30): not the bench's shape, a row of its own`,
      ]
    : []),
  `settings "same": --concurrent=${same.concurrent} --kube-api-qps=${same.qps} --kube-api-burst=${same.burst} on all ${2 * processes.length} processes (the headline)`,
  `Capstan's NODE_OPTIONS: ${values["node-options"] !== undefined ? `"${values["node-options"]}" (--node-options, not the charts')` : `the charts' nodeOptions (source-controller "${await chartNodeOptions("source-controller")}", kustomize-controller "${await chartNodeOptions("kustomize-controller")}")`}`,
  `Capstan's node flags: ${values["node-args"] !== undefined ? `"${values["node-args"]}" (--node-args, not the images')` : `the images' (Dockerfile ENTRYPOINT: source-controller "${(await imageNodeArgs("source-controller")).join(" ")}", kustomize-controller "${(await imageNodeArgs("kustomize-controller")).join(" ")}")`}`,
  `Capstan's MALLOC_ARENA_MAX (the charts' mallocArenaMax): source-controller ${(await chartEnv("source-controller")).MALLOC_ARENA_MAX ?? "unset"}, kustomize-controller ${(await chartEnv("kustomize-controller")).MALLOC_ARENA_MAX ?? "unset"}`,
  `settings "defaults": no such flag, each controller's own defaults (Flux: source-controller --concurrent=2, kustomize-controller 4; Capstan: 4 and 4; qps 50, burst 300 everywhere)`,
  "",
  "| settings | measure | Flux | Capstan | capstan/flux |",
  "|---|---|---|---|---|",
];
for (const { row, flux, capstan } of results) {
  const add = (measure: string, f: number, c: number, fmt: (x: number) => string) =>
    lines.push(`| ${row} | ${measure} | ${fmt(f)} | ${fmt(c)} | ${ratio(c, f)} |`);
  add("apply → all Ready", flux.readySeconds, capstan.readySeconds, s);
  add("upgrade → all Ready", flux.upgradeSeconds, capstan.upgradeSeconds, s);
  // The cluster's part (cluster.ts): when the Deployments were applied and rolled out, from their timestamps (1 s
  // resolution), and the apiserver's requests from the apply to all Ready.
  for (const [i, phase] of ["apply", "upgrade"].entries()) {
    const f = flux.cluster[i];
    const c = capstan.cluster[i];
    if (!f && !c) continue;
    const nan = Number.NaN;
    const perApp = (x: number | undefined) => (x ?? nan) / n;
    const one = (x: number) => (Number.isNaN(x) ? "NaN" : x.toFixed(1));
    add(
      `${phase}: first Deployment applied (s after the apply)`,
      f?.timeline.firstApplied ?? nan,
      c?.timeline.firstApplied ?? nan,
      s,
    );
    add(`${phase}: last Deployment applied`, f?.timeline.lastApplied ?? nan, c?.timeline.lastApplied ?? nan, s);
    add(
      `${phase}: last Deployment rolled out (kube-controller-manager)`,
      f?.timeline.lastComplete ?? nan,
      c?.timeline.lastComplete ?? nan,
      s,
    );
    add(
      `${phase}: kube-controller-manager rollout writes per app`,
      perApp(f?.requests.rolloutWrites),
      perApp(c?.requests.rolloutWrites),
      one,
    );
    add(`${phase}: apiserver writes per app, all clients`, perApp(f?.requests.writes), perApp(c?.requests.writes), one);
    add(
      `${phase}: apiserver GETs and LISTs per app, all clients`,
      perApp(f?.requests.reads),
      perApp(c?.requests.reads),
      one,
    );
  }
  for (const r of processRows(processes, flux.processes, capstan.processes, idleSeconds)) {
    add(r.measure, r.flux, r.capstan, (x) => formatValue(x, r.unit));
  }
  if (k > 0) {
    const count = (p: ProcessFigures | undefined) =>
      p?.reconciled ? `${p.reconciled.GitRepository} + ${p.reconciled.Kustomization}` : "NaN";
    for (const [i, p] of processes.entries()) {
      lines.push(
        `| ${row} | ${processLabel(p)} objects reconciled (GitRepositories + Kustomizations) | ${count(flux.processes[i])} | ${count(capstan.processes[i])} | |`,
      );
    }
  }
}
const headline = results.find((r) => r.row === "same") ?? results[0];
process.stdout.write(`${lines.join("\n")}\n\n`);
if (headline) {
  process.stdout.write(
    `capstan/flux ready ratio: ${ratio(headline.capstan.readySeconds, headline.flux.readySeconds)}\n`,
  );
}

// --- the reconcile trace (Capstan only): capstan_reconcile_step_duration_seconds and workqueue_queue_duration_seconds

/** `<controller> <series>` → [sum of seconds, count], from each Capstan controller's /metrics. */
type Trace = Map<string, [number, number]>;

async function traceOf(side: Side | undefined): Promise<Trace> {
  const out: Trace = new Map();
  for (const c of side?.controllers ?? []) {
    if (!c.metricsUrl) continue;
    const text = await fetch(c.metricsUrl).then(
      (r) => r.text(),
      () => "",
    );
    for (const line of text.split("\n")) {
      const m =
        /^(capstan_reconcile_step_duration_seconds|workqueue_queue_duration_seconds|controller_runtime_reconcile_time_seconds)_(sum|count)\{([^}]*)\} (\S+)$/.exec(
          line,
        );
      if (!m) continue;
      const [, series = "", kind = "", labels = "", value = "0"] = m;
      const step = /step="([^"]*)"/.exec(labels)?.[1];
      const name = step ? `step ${/kind="([^"]*)"/.exec(labels)?.[1]}/${step}` : series.replace(/_seconds$/, "");
      const key = `${processLabel({ controller: c.name, ...(c.shard ? { shard: c.shard } : {}) })} ${name}`;
      const cur = out.get(key) ?? [0, 0];
      cur[kind === "sum" ? 0 : 1] += Number(value);
      out.set(key, cur);
    }
  }
  return out;
}

function diffTrace(a: Trace, b: Trace): Trace {
  return new Map([...a].map(([k, [s, n]]) => [k, [s - (b.get(k)?.[0] ?? 0), n - (b.get(k)?.[1] ?? 0)]]));
}

function formatTrace(t: Trace): string {
  return [...t]
    .filter(([, [, n]]) => n > 0)
    .map(([k, [s, n]]) => `  ${k}: ${s.toFixed(1)} s in ${n} (mean ${((s / n) * 1000).toFixed(0)} ms)`)
    .join("\n");
}

/** Where each Capstan controller's memory is now (prom-client's process_/nodejs_ gauges), one line per controller. */
async function memoryOf(side: Side | undefined): Promise<string> {
  const lines: string[] = [];
  for (const c of side?.controllers ?? []) {
    if (!c.metricsUrl) continue;
    const text = await fetch(c.metricsUrl).then(
      (r) => r.text(),
      () => "",
    );
    const get = (re: RegExp) => Number(re.exec(text)?.[1] ?? Number.NaN) / 1048576;
    const parts = [
      ["rss", get(/^process_resident_memory_bytes (\S+)$/m)],
      ["heap used", get(/^nodejs_heap_size_used_bytes (\S+)$/m)],
      ["heap total", get(/^nodejs_heap_size_total_bytes (\S+)$/m)],
      ["external", get(/^nodejs_external_memory_bytes (\S+)$/m)],
      ["new space", get(/^nodejs_heap_space_size_total_bytes\{space="new"\} (\S+)$/m)],
      ["old space used", get(/^nodejs_heap_space_size_used_bytes\{space="old"\} (\S+)$/m)],
      ["code space", get(/^nodejs_heap_space_size_total_bytes\{space="code"\} (\S+)$/m)],
    ] as const;
    lines.push(
      `  ${processLabel({ controller: c.name, ...(c.shard ? { shard: c.shard } : {}) })}: ${parts.map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", ")} MiB`,
    );
  }
  return lines.join("\n");
}

// --- sharding checks

/**
 * Every GitRepository's artifact is served by its own shard's source-controller (the storage address that process
 * advertises), so its Kustomization, Ready at that revision, downloaded it from there.
 */
async function checkShardStorage(client: KubeClient, side: Side): Promise<void> {
  const storage = new Map(side.controllers.filter((c) => c.storageUrl).map((c) => [c.shard, c.storageUrl]));
  const type = await client.resourceFor("source.toolkit.fluxcd.io/v1", "GitRepository");
  const { items } = await client.list<KubeObject & { status?: { artifact?: { url?: string } } }>(type, {
    namespace: fluxNamespace,
  });
  const wrong = items.filter((g) => {
    const i = Number(/^app-(\d+)$/.exec(g.metadata.name)?.[1]);
    const want = storage.get(shardOfApp(i, k));
    return !want || !g.status?.artifact?.url?.startsWith(`${want}/`);
  });
  if (wrong.length > 0) {
    const g = wrong[0];
    throw new Error(
      `${wrong.length} GitRepositories' artifacts are not served by their shard's source-controller, e.g. ${g?.metadata.name}: ${g?.status?.artifact?.url}`,
    );
  }
  log(`all ${items.length} GitRepositories' artifacts are served by their own shard's source-controller`);
}

/** Objects each process reconciled (its per-object metric series, or its log for Flux); a stray one is an error. */
async function ownership(
  side: Side,
  what: string,
): Promise<({ GitRepository: number; Kustomization: number } | undefined)[]> {
  const out: ({ GitRepository: number; Kustomization: number } | undefined)[] = [];
  const stray: string[] = [];
  for (const c of side.controllers) {
    const text = c.metricsUrl
      ? await fetch(c.metricsUrl).then(
          (r) => r.text(),
          () => "",
        )
      : "";
    // Capstan: the per-object metric series; Flux (which dropped them): the objects its log lines name.
    // (a process that reconciled nothing has the metric's HELP line and no series)
    const names = text.includes("# TYPE gotk_reconcile_duration_seconds ")
      ? reconciledNames(text)
      : c.logPath
        ? loggedNames(await readFile(c.logPath, "utf8").catch(() => ""))
        : undefined;
    if (!names) {
      out.push(undefined);
      continue;
    }
    const p = { controller: c.name, ...(c.shard ? { shard: c.shard } : {}) };
    out.push({
      GitRepository: names.filter((x) => x.kind === "GitRepository").length,
      Kustomization: names.filter((x) => x.kind === "Kustomization").length,
    });
    for (const x of strayReconciles(p, names, k)) stray.push(`${processLabel(p)} reconciled ${x.kind} ${x.name}`);
  }
  log(
    `${what}: objects reconciled per process (GitRepositories + Kustomizations): ${side.controllers
      .map(
        (c, i) =>
          `${processLabel({ controller: c.name, ...(c.shard ? { shard: c.shard } : {}) })} ${out[i] ? `${out[i].GitRepository} + ${out[i].Kustomization}` : "unknown"}`,
      )
      .join(", ")}`,
  );
  if (stray.length > 0)
    throw new Error(`${what}: processes reconciled objects of another shard: ${stray.slice(0, 10).join("; ")}`);
  return out;
}
