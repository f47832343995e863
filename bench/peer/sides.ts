// The two sides of the benchmark, each a pair of controller processes run out of cluster against the control plane
// given: Flux's source-controller and kustomize-controller (Go binaries from build-flux.sh), and Capstan's (the
// built dist/main.js of each package, under node). Both get loopback addresses on free ports, leader election off
// (one replica each), JSON logs, and either the same --concurrent / --kube-api-qps / --kube-api-burst or none at all
// (each side's defaults).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, spawnController } from "@capstan/cluster/process";
import { parse } from "yaml";
import { repoRoot, distMain as sourceDistMain } from "../../packages/source-controller/src/testing/process.js";

const run = promisify(execFile);

export const controllers = ["source-controller", "kustomize-controller"] as const;
export type ControllerName = (typeof controllers)[number];

export interface Limits {
  concurrent: number;
  qps: number;
  burst: number;
}

export interface RunningController {
  name: ControllerName;
  /** The shard it serves (--watch-label-selector `sharding.fluxcd.io/key in (<shard>)`), undefined for the main one. */
  shard?: string;
  pid: number;
  /** Last lines of its log, for error messages. */
  tail(): string;
  /** Where its log is written (Flux's processes). */
  logPath?: string;
  /** source-controller: where it serves its artifacts (`http://127.0.0.1:<port>`). */
  storageUrl?: string;
  /** Its /metrics (the reconcile trace is read from Capstan's; the per-object reconcile counts from both). */
  metricsUrl?: string;
}

export interface Side {
  controllers: RunningController[];
  stop(): Promise<void>;
}

export interface SideOptions {
  kubeconfig: string;
  /** A fresh directory for storage, caches, temp files and logs. */
  dir: string;
  /** undefined: each controller's own defaults. */
  limits?: Limits;
  /** Namespace of leases and events (RUNTIME_NAMESPACE). */
  namespace: string;
  /** Capstan only: NODE_OPTIONS instead of the charts' `nodeOptions` value (experiments). */
  nodeOptions?: string;
  /** Capstan only: node flags instead of the images' (the Dockerfile's ENTRYPOINT; experiments). */
  nodeArgs?: string[];
  /** The shards (--shards K: shard1 … shardK); each controller runs its main process plus one per shard. */
  shards?: string[];
  /**
   * The args a process gets besides the bench's own (ports, storage, logging, limits): for Capstan what the rendered
   * chart gives that Deployment, for Flux its documented sharding flags; the --watch-label-selector when sharded.
   */
  extraArgs?: (controller: ControllerName, shard: string | undefined) => string[];
}

/** `<controller>` or `<controller>-<shard>`: the process's directory, log and table name (the charts' Deployment). */
const procName = (name: ControllerName, shard: string | undefined) => (shard ? `${name}-${shard}` : name);

/**
 * The environment a Capstan controller's chart (charts/<name>/values.yaml) gives its container from values: its
 * `nodeOptions` as NODE_OPTIONS and its `mallocArenaMax` as MALLOC_ARENA_MAX, so the bench starts the controller with
 * the same V8 flags and allocator settings.
 */
export async function chartEnv(name: ControllerName): Promise<Record<string, string>> {
  const values = parse(await readFile(join(repoRoot, "charts", name, "values.yaml"), "utf8")) as {
    nodeOptions?: unknown;
    mallocArenaMax?: unknown;
  };
  return {
    ...(typeof values.nodeOptions === "string" && values.nodeOptions ? { NODE_OPTIONS: values.nodeOptions } : {}),
    ...(typeof values.mallocArenaMax === "number" && values.mallocArenaMax > 0
      ? { MALLOC_ARENA_MAX: String(values.mallocArenaMax) }
      : {}),
  };
}

/**
 * The node flags of a Dockerfile target's ENTRYPOINT (`["/usr/bin/tini", "--", "node", <flags…>, "/app/dist/main.js"]`):
 * V8 flags NODE_OPTIONS does not allow (--optimize-for-size) are given there. Throws if the target or its node
 * ENTRYPOINT is missing, so a renamed target cannot silently drop the flags from the bench.
 */
export function entrypointNodeArgs(dockerfile: string, target: string): string[] {
  const stages = dockerfile.split(/^FROM\s+/m);
  const stage = stages.find((st) => new RegExp(`^\\S+\\s+AS\\s+${target}\\s*$`, "im").test(st.split("\n")[0] ?? ""));
  if (!stage) throw new Error(`no Dockerfile stage ${target}`);
  const line = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(stage)?.[1];
  const entry = line ? (JSON.parse(line) as string[]) : [];
  const node = entry.indexOf("node");
  const script = entry.findIndex((a, i) => i > node && !a.startsWith("-"));
  if (node < 0 || script < 0) throw new Error(`the ${target} stage's ENTRYPOINT does not run node <script>: ${line}`);
  return entry.slice(node + 1, script);
}

/** The node flags of a Capstan controller's image (the Dockerfile's ENTRYPOINT for its target). */
export async function imageNodeArgs(name: ControllerName): Promise<string[]> {
  return entrypointNodeArgs(await readFile(join(repoRoot, "Dockerfile"), "utf8"), name);
}

/** The chart's NODE_OPTIONS of a Capstan controller ("" for none). */
export async function chartNodeOptions(name: ControllerName): Promise<string> {
  return (await chartEnv(name)).NODE_OPTIONS ?? "";
}

/**
 * kube-controller-manager's flags for `--kcm-qps Q`: client QPS Q and burst 1.5 × Q (its defaults are 20 and 30, the
 * same ratio); none without the option.
 */
export function kcmArgs(qps: string | undefined): string[] {
  if (qps === undefined) return [];
  const q = Number(qps);
  if (!(Number.isInteger(q) && q > 0)) throw new Error(`--kcm-qps must be a positive integer, got ${qps}`);
  return [`--kube-api-qps=${q}`, `--kube-api-burst=${Math.ceil(q * 1.5)}`];
}

const limitArgs = (l: Limits | undefined) =>
  l ? [`--concurrent=${l.concurrent}`, `--kube-api-qps=${l.qps}`, `--kube-api-burst=${l.burst}`] : [];

async function untilReady(name: string, healthUrl: string, exited: () => boolean, tail: () => string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (exited()) throw new Error(`${name} exited early:\n${tail()}`);
    const status = await fetch(`${healthUrl}/readyz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${name} not ready in 120 s:\n${tail()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Starts one Flux controller binary with its log (stderr and stdout) in `<dir>/<name>.log`. */
async function startFluxController(
  name: ControllerName,
  shard: string | undefined,
  binary: string,
  args: string[],
  o: SideOptions,
): Promise<RunningController & { child: ChildProcess }> {
  const health = await freePort();
  const metrics = await freePort();
  const label = procName(name, shard);
  const dir = join(o.dir, label);
  await mkdir(join(dir, "tmp"), { recursive: true });
  const log = createWriteStream(join(o.dir, `${label}.log`));
  let recent = "";
  const child = spawn(
    binary,
    [
      `--health-addr=127.0.0.1:${health}`,
      `--metrics-addr=127.0.0.1:${metrics}`,
      "--log-level=info",
      "--log-encoding=json",
      "--watch-all-namespaces=true",
      "--enable-leader-election=false",
      ...limitArgs(o.limits),
      ...(o.extraArgs?.(name, shard) ?? []),
      ...args,
    ],
    {
      // controller-runtime reads KUBECONFIG; the binaries run out of cluster.
      env: { ...process.env, KUBECONFIG: o.kubeconfig, RUNTIME_NAMESPACE: o.namespace, TMPDIR: join(dir, "tmp") },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on("data", (chunk: Buffer) => {
      log.write(chunk);
      recent = (recent + chunk.toString("utf8")).slice(-4000);
    });
  }
  child.on("exit", () => log.end());
  const tail = () => recent;
  await untilReady(
    label,
    `http://127.0.0.1:${health}`,
    () => child.exitCode !== null || child.signalCode !== null,
    tail,
  );
  return {
    name,
    ...(shard ? { shard } : {}),
    pid: child.pid ?? -1,
    tail,
    child,
    logPath: join(o.dir, `${label}.log`),
    metricsUrl: `http://127.0.0.1:${metrics}/metrics`,
  };
}

export async function startFlux(bins: Record<ControllerName, string>, o: SideOptions): Promise<Side> {
  const started: (RunningController & { child: ChildProcess })[] = [];
  const stop = async () => {
    for (const c of started.reverse()) await terminate(c.child);
  };
  const shards = [undefined, ...(o.shards ?? [])];
  try {
    // Each source-controller shard serves its own artifacts (its own storage and address), as the charts' shards do.
    for (const shard of shards) {
      const storage = await freePort();
      const storagePath = join(o.dir, procName("source-controller", shard), "storage");
      await mkdir(storagePath, { recursive: true });
      const c = await startFluxController(
        "source-controller",
        shard,
        bins["source-controller"],
        [
          `--storage-path=${storagePath}`,
          `--storage-addr=127.0.0.1:${storage}`,
          `--storage-adv-addr=127.0.0.1:${storage}`,
        ],
        o,
      );
      started.push({ ...c, storageUrl: `http://127.0.0.1:${storage}` });
    }
    for (const shard of shards) {
      started.push(await startFluxController("kustomize-controller", shard, bins["kustomize-controller"], [], o));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { controllers: [...started], stop };
}

const kustomizeDistMain = join(repoRoot, "packages", "kustomize-controller", "dist", "main.js");

/** Builds dist/ of both Capstan controllers and their workspace dependencies (turbo: a no-op when up to date). */
export async function buildCapstan(): Promise<void> {
  await run(
    join(repoRoot, "node_modules", ".bin", "turbo"),
    ["run", "build", "--filter=@capstan/source-controller...", "--filter=@capstan/kustomize-controller..."],
    { cwd: repoRoot, env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" }, maxBuffer: 64 * 1024 * 1024 },
  );
}

export async function startCapstan(kustomizeBinary: string, o: SideOptions): Promise<Side> {
  const started: {
    name: ControllerName;
    shard: string | undefined;
    proc: ReturnType<typeof spawnController>;
    metricsUrl: string;
    storageUrl?: string;
  }[] = [];
  const stop = async () => {
    for (const c of started.reverse()) await terminate(c.proc.child);
  };
  const start = async (
    name: ControllerName,
    shard: string | undefined,
    main: string,
    args: string[],
    storageUrl?: string,
  ) => {
    const health = await freePort();
    const metrics = await freePort();
    const metricsUrl = `http://127.0.0.1:${metrics}/metrics`;
    const label = procName(name, shard);
    const dir = join(o.dir, label);
    await mkdir(join(dir, "tmp"), { recursive: true });
    const healthUrl = `http://127.0.0.1:${health}`;
    const { NODE_OPTIONS: chartNodeOpts, ...chart } = await chartEnv(name);
    const nodeOptions = o.nodeOptions ?? chartNodeOpts;
    const proc = spawnController({
      name: label,
      entry: [...(o.nodeArgs ?? (await imageNodeArgs(name))), main],
      args: [
        `--health-addr=127.0.0.1:${health}`,
        `--metrics-addr=127.0.0.1:${metrics}`,
        "--log-level=info",
        "--log-encoding=json",
        "--watch-all-namespaces=true",
        "--leader-elect=false",
        `--kubeconfig=${o.kubeconfig}`,
        ...limitArgs(o.limits),
        ...(o.extraArgs?.(name, shard) ?? []),
        ...args,
      ],
      env: {
        RUNTIME_NAMESPACE: o.namespace,
        POD_NAME: `${label}-bench`,
        TMPDIR: join(dir, "tmp"),
        ...chart,
        ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
      },
      healthUrl,
    });
    started.push({ name, shard, proc, metricsUrl, ...(storageUrl ? { storageUrl } : {}) });
    await proc.ready(120_000);
  };
  const shards = [undefined, ...(o.shards ?? [])];
  try {
    // Each source-controller shard serves its own artifacts (its own storage and address), as the charts' shards do.
    for (const shard of shards) {
      const storage = await freePort();
      const storagePath = join(o.dir, procName("source-controller", shard), "storage");
      await mkdir(storagePath, { recursive: true });
      await start(
        "source-controller",
        shard,
        sourceDistMain,
        [
          `--storage-path=${storagePath}`,
          `--storage-addr=127.0.0.1:${storage}`,
          `--storage-adv-addr=127.0.0.1:${storage}`,
        ],
        `http://127.0.0.1:${storage}`,
      );
    }
    for (const shard of shards) {
      const cache = join(o.dir, procName("kustomize-controller", shard), "artifacts");
      await mkdir(cache, { recursive: true });
      await start("kustomize-controller", shard, kustomizeDistMain, [
        `--kustomize-path=${kustomizeBinary}`,
        `--artifact-cache-dir=${cache}`,
      ]);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    controllers: started.map(({ name, shard, proc, metricsUrl, storageUrl }) => ({
      name,
      ...(shard ? { shard } : {}),
      ...(storageUrl ? { storageUrl } : {}),
      pid: proc.pid,
      tail: () => proc.output().slice(-4000),
      metricsUrl,
    })),
    stop,
  };
}
