// One large Kustomization beside Flux (issue [apply-speed]): one Kustomization applying 1,000 (and 5,000) ConfigMaps,
// run by Flux's kustomize-controller v1.9.4 (the Go binary bench/peer/build-flux.sh builds) and by Capstan's (its
// built dist/main.js), one after the other, each on its own fresh control plane with the same artifact served on
// loopback through a GitRepository whose status the bench sets (no source-controller on either side). Measured:
// - first apply: Kustomization created → Ready at the revision (1,000 ConfigMaps created);
// - full reconcile of the unchanged set: `reconcile.fluxcd.io/requestedAt` set (as `flux reconcile` does) → handled
//   and Ready; Capstan always takes its full path here (read + dry-run of every object), as it does every
//   --full-apply-every-th interval; Flux does the same at every interval;
// - no-op intervals: spec.interval 30s, then a window of `--window` seconds: API requests, reconciles (the
//   controller's own controller_runtime_reconcile_total) and CPU seconds (utime + stime + children, /proc) in it.
// API requests are counted by the apiserver (`apiserver_request_total` deltas from its /metrics, for the resources a
// kustomize-controller touches here: configmaps, kustomizations, gitrepositories, events), the same way on both
// sides; the control plane's own components add a handful at most (they do not touch these resources).
//   pnpm --filter @capstan/bench bench:kustomize:large -- --objects=1000,5000
//   pnpm --filter @capstan/bench bench:kustomize:large -- --objects=1000 --order=capstan --window=65
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { ensureBinaries, freePort, startControlPlane } from "@capstan/cluster";
import { KubeClient, type KubeObject } from "@capstan/runtime";
import { ensureCrds } from "../../packages/api/src/testing/index.js";
import { cpuSeconds } from "../peer/proc.js";
import { buildCapstan } from "../peer/sides.js";

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, "..", "..");

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: {
    objects: { type: "string", default: "1000,5000" },
    order: { type: "string", default: "flux,capstan" },
    window: { type: "string", default: "95" },
    "concurrent-ssa": { type: "string", default: "4" },
    // debug adds Capstan's "reconcile trace" line (where each reconcile's time went) to the controller's log.
    "log-level": { type: "string", default: "info" },
    // Keep each side's controller log here (<dir>/<side>-<n>.log); the work directory is removed at the end.
    "keep-logs": { type: "string" },
  },
});
const sizes = values.objects.split(",").map(Number);
const order = values.order.split(",") as SideName[];
const windowMs = Number(values.window) * 1000;
type SideName = "flux" | "capstan";

const log = (m: string) => process.stderr.write(`[large] ${m}\n`);
const uptime = async () => (await readFile("/proc/loadavg", "utf8")).split(" ").slice(0, 3).join(" ");
const namespace = "apps";
const system = "flux-system";
const ksRef = { apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization", name: "big", namespace };
const repoRef = { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository" };
const counted = new Set(["configmaps", "kustomizations", "gitrepositories", "events"]);

interface Result {
  createSeconds: number;
  createRequests: number;
  createCpu: number;
  fullSeconds: number;
  fullRequests: number;
  fullCpu: number;
  windowReconciles: number;
  windowRequests: number;
  windowCpu: number;
  load: string;
}

// --- builds first, so nothing builds while anything is measured
let fluxBinary = "";
if (order.includes("flux")) {
  log("building Flux's kustomize-controller (bench/peer/build-flux.sh; cached)");
  const { stdout } = await run("bash", [join(here, "..", "peer", "build-flux.sh")], { maxBuffer: 16 << 20 });
  const dir = stdout
    .trim()
    .split("\n")
    .at(-1)
    ?.split(":")
    .find((d) => d.includes("/flux-kustomize-controller-"));
  if (!dir) throw new Error(`build-flux.sh printed no kustomize-controller directory: ${stdout}`);
  fluxBinary = join(dir, "kustomize-controller");
}
log("building Capstan (turbo)");
await buildCapstan();
const binaries = await ensureBinaries();

/** Flux's CRDs from the module zips the binaries were built from (as bench/peer does). */
async function fluxCrdDirs(): Promise<string[]> {
  const dirs: string[] = [];
  for (const c of ["source-controller", "kustomize-controller"]) {
    const wrapper = join(here, "..", "peer", "go", c);
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
const crdDirs = order.includes("flux") ? await fluxCrdDirs() : [];

/** The artifact: `n` ConfigMaps in one file and a kustomization.yaml, packed with GNU tar, served on loopback. */
async function serveArtifact(work: string, n: number) {
  const src = join(work, `src-${n}`);
  await mkdir(src, { recursive: true });
  const docs = Array.from({ length: n }, (_, i) =>
    JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `cm-${i}` }, data: { index: String(i) } }),
  );
  await writeFile(join(src, "cms.yaml"), docs.join("\n---\n"));
  await writeFile(join(src, "kustomization.yaml"), "resources:\n  - cms.yaml\n");
  const file = join(work, `artifact-${n}.tar.gz`);
  await run("tar", ["-czf", file, "-C", src, "."]);
  const body = await readFile(file);
  const sha = createHash("sha256").update(body).digest("hex");
  const server = createServer((req, res) => {
    res.writeHead(req.url === `/${sha}.tar.gz` ? 200 : 404);
    res.end(req.url === `/${sha}.tar.gz` ? body : undefined);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    artifact: {
      url: `http://127.0.0.1:${port}/${sha}.tar.gz`,
      digest: `sha256:${sha}`,
      revision: `main@sha1:${randomBytes(20).toString("hex")}`,
      path: `gitrepository/${namespace}/repo/${sha}.tar.gz`,
      lastUpdateTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    },
    close: () => new Promise((r) => server.close(r)),
  };
}

/** apiserver_request_total summed over the counted resources (all verbs and codes), from the apiserver's /metrics. */
async function apiRequests(kubeconfig: string): Promise<number> {
  const { stdout } = await run(binaries.bin.kubectl, ["--kubeconfig", kubeconfig, "get", "--raw", "/metrics"], {
    maxBuffer: 256 << 20,
  });
  let sum = 0;
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("apiserver_request_total{")) continue;
    const resource = /resource="([^"]*)"/.exec(line)?.[1] ?? "";
    if (counted.has(resource)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** controller_runtime_reconcile_total of the Kustomization controller, from the controller's /metrics. */
async function reconcileTotal(metricsUrl: string): Promise<number> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("controller_runtime_reconcile_total{") && /controller="kustomization"/.test(line)) {
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return sum;
}

interface Running {
  child: ChildProcess;
  metricsUrl: string;
  tail(): string;
}

async function startController(side: SideName, kubeconfig: string, dir: string): Promise<Running> {
  const health = await freePort();
  const metrics = await freePort();
  await mkdir(join(dir, "tmp"), { recursive: true });
  await mkdir(join(dir, "cache"), { recursive: true });
  const common = [
    `--health-addr=127.0.0.1:${health}`,
    `--metrics-addr=127.0.0.1:${metrics}`,
    `--log-level=${values["log-level"]}`,
    "--log-encoding=json",
    "--watch-all-namespaces=true",
    `--concurrent-ssa=${values["concurrent-ssa"]}`,
  ];
  const [cmd, args] =
    side === "flux"
      ? [fluxBinary, [...common, "--enable-leader-election=false"]]
      : [
          process.execPath,
          [
            join(repoRoot, "packages", "kustomize-controller", "dist", "main.js"),
            ...common,
            "--leader-elect=false",
            `--kubeconfig=${kubeconfig}`,
            `--kustomize-path=${binaries.bin.kustomize}`,
            `--artifact-cache-dir=${join(dir, "cache")}`,
          ],
        ];
  const logFile = createWriteStream(join(dir, "controller.log"));
  let recent = "";
  const child = spawn(cmd, args, {
    env: { ...process.env, KUBECONFIG: kubeconfig, RUNTIME_NAMESPACE: system, TMPDIR: join(dir, "tmp") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  for (const s of [child.stdout, child.stderr]) {
    s?.on("data", (chunk: Buffer) => {
      logFile.write(chunk);
      recent = (recent + chunk.toString("utf8")).slice(-4000);
    });
  }
  child.on("exit", () => logFile.end());
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${side} exited early:\n${recent}`);
    const ok = await fetch(`http://127.0.0.1:${health}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`${side} not ready in 120 s:\n${recent}`);
    await sleep(200);
  }
  return { child, metricsUrl: `http://127.0.0.1:${metrics}`, tail: () => recent };
}

async function stopController(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

type Ks = KubeObject & {
  status?: {
    lastAppliedRevision?: string;
    lastHandledReconcileAt?: string;
    observedGeneration?: number;
    conditions?: { type: string; status: string; message?: string }[];
  };
};

async function until(client: KubeClient, what: string, pred: (k: Ks) => boolean, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last: Ks | undefined;
  for (;;) {
    last = await client.get<Ks>(ksRef);
    if (last && pred(last)) return performance.now();
    if (Date.now() > deadline) {
      const ready = last?.status?.conditions?.find((c) => c.type === "Ready");
      throw new Error(`timed out waiting for ${what}; Ready: ${JSON.stringify(ready)}`);
    }
    await sleep(250);
  }
}
// Reconciling=True means a pass is still running: both controllers write progress (and Capstan's progress write
// already carries lastHandledReconcileAt, with Ready still True from the pass before).
const readyAt = (revision: string) => (k: Ks) =>
  k.status?.lastAppliedRevision === revision &&
  k.status?.observedGeneration === k.metadata.generation &&
  k.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true &&
  !k.status?.conditions?.some((c) => c.type === "Reconciling" && c.status === "True");

async function measure(side: SideName, n: number, work: string): Promise<Result> {
  const dir = join(work, `${side}-${n}`);
  await mkdir(dir, { recursive: true });
  const load = await uptime();
  log(`${side}/${n}: starting a control plane (load ${load})`);
  const plane = await startControlPlane({ workloads: false, baseDir: dir });
  const kc = ["--kubeconfig", plane.kubeconfig];
  const client = new KubeClient({ kubeconfigPath: plane.kubeconfig, qps: 0 });
  const served = await serveArtifact(work, n);
  let running: Running | undefined;
  try {
    if (side === "flux") {
      for (const d of crdDirs) await run(binaries.bin.kubectl, [...kc, "apply", "--server-side", "-f", d]);
      await run(binaries.bin.kubectl, [...kc, "wait", "--for=condition=Established", "--timeout=120s", "crd", "--all"]);
    } else {
      await ensureCrds(plane.kubeconfig);
    }
    for (const ns of [system, namespace])
      await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    const repoMeta = { name: "repo", namespace };
    await client.apply(
      { ...repoRef, metadata: repoMeta, spec: { url: "https://git.invalid/r", interval: "60m" } },
      {
        fieldManager: "bench",
      },
    );
    await client.applyStatus(
      { ...repoRef, metadata: repoMeta, status: { artifact: served.artifact, observedGeneration: 1 } },
      { fieldManager: "source-controller", force: true },
    );
    running = await startController(side, plane.kubeconfig, dir);
    const pid = running.child.pid ?? -1;
    // kustomize's build time grows faster than the object count (5,000 ConfigMaps take minutes of CPU on either side,
    // in Flux's process or in Capstan's kustomize child): spec.timeout grows with the size, the same on both sides.
    const specTimeoutMinutes = Math.max(10, Math.ceil(n / 100));
    const timeoutMs = (specTimeoutMinutes + 10) * 60_000;
    const revision = served.artifact.revision;
    const ks = (interval: string): KubeObject => ({
      apiVersion: ksRef.apiVersion,
      kind: ksRef.kind,
      metadata: { name: ksRef.name, namespace },
      spec: {
        interval,
        timeout: `${specTimeoutMinutes}m`,
        prune: true,
        path: "./",
        targetNamespace: namespace,
        sourceRef: { kind: "GitRepository", name: "repo" },
      },
    });

    log(`${side}/${n}: first apply`);
    let r0 = await apiRequests(plane.kubeconfig);
    let cpu0 = await cpuSeconds(pid);
    let t0 = performance.now();
    await client.apply(ks("60m"), { fieldManager: "bench" });
    const createSeconds = ((await until(client, "first apply", readyAt(revision), timeoutMs)) - t0) / 1000;
    const createRequests = (await apiRequests(plane.kubeconfig)) - r0;
    const createCpu = (await cpuSeconds(pid)) - cpu0;
    log(`${side}/${n}: Ready in ${createSeconds.toFixed(1)} s, ${createRequests} requests; full reconcile`);

    const token = `bench-${Date.now()}`;
    r0 = await apiRequests(plane.kubeconfig);
    cpu0 = await cpuSeconds(pid);
    t0 = performance.now();
    await client.mergePatch(ksRef, { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": token } } });
    const handled = (k: Ks) => k.status?.lastHandledReconcileAt === token && readyAt(revision)(k);
    const fullSeconds = ((await until(client, "full reconcile", handled, timeoutMs)) - t0) / 1000;
    const fullRequests = (await apiRequests(plane.kubeconfig)) - r0;
    const fullCpu = (await cpuSeconds(pid)) - cpu0;
    log(`${side}/${n}: full reconcile ${fullSeconds.toFixed(1)} s, ${fullRequests} requests; no-op window`);

    // interval 30s: a spec change (generation 2) reconciles once; the window starts when it is done.
    await client.apply(ks("30s"), { fieldManager: "bench" });
    await until(client, "interval change", (k) => k.metadata.generation === 2 && readyAt(revision)(k), timeoutMs);
    const [q0, c0, w0] = [
      await apiRequests(plane.kubeconfig),
      await cpuSeconds(pid),
      await reconcileTotal(running.metricsUrl),
    ];
    await sleep(windowMs);
    const [q1, c1, w1] = [
      await apiRequests(plane.kubeconfig),
      await cpuSeconds(pid),
      await reconcileTotal(running.metricsUrl),
    ];
    const result: Result = {
      createSeconds,
      createRequests,
      createCpu,
      fullSeconds,
      fullRequests,
      fullCpu,
      windowReconciles: w1 - w0,
      windowRequests: q1 - q0,
      windowCpu: c1 - c0,
      load,
    };
    log(`${side}/${n}: ${JSON.stringify(result)}`);
    return result;
  } catch (err) {
    throw new Error(`${side}/${n}: ${(err as Error).message}\n${running?.tail() ?? ""}`, { cause: err });
  } finally {
    if (running) await stopController(running.child);
    if (values["keep-logs"]) {
      await mkdir(values["keep-logs"], { recursive: true });
      await copyFile(join(dir, "controller.log"), join(values["keep-logs"], `${side}-${n}.log`)).catch(() => {});
    }
    await served.close();
    client.close();
    await plane.stop();
  }
}

const work = await mkdtemp(join(tmpdir(), "capstan-bench-large-"));
const results: { n: number; side: SideName; r: Result }[] = [];
try {
  for (const n of sizes) for (const side of order) results.push({ n, side, r: await measure(side, n, work) });
} finally {
  await rm(work, { recursive: true, force: true });
}

const get = (n: number, side: SideName) => results.find((x) => x.n === n && x.side === side)?.r;
const lines = [
  `node ${process.version}; Flux: ${fluxBinary.split("/").at(-2) ?? "-"}; --concurrent-ssa=${values["concurrent-ssa"]} on both; window ${windowMs / 1000} s at interval 30s`,
  "",
  "| objects | measure | Flux | Capstan | capstan/flux |",
  "|---|---|---|---|---|",
];
for (const n of sizes) {
  const f = get(n, "flux");
  const c = get(n, "capstan");
  const row = (measure: string, pick: (r: Result) => number, fmt: (x: number) => string) => {
    const a = f ? pick(f) : Number.NaN;
    const b = c ? pick(c) : Number.NaN;
    lines.push(`| ${n} | ${measure} | ${fmt(a)} | ${fmt(b)} | ${(b / a).toFixed(2)} |`);
  };
  const s = (x: number) => `${x.toFixed(1)} s`;
  const k = (x: number) => x.toFixed(0);
  const per = (pick: (r: Result) => number) => (r: Result) => pick(r) / Math.max(1, r.windowReconciles);
  row("first apply → Ready", (r) => r.createSeconds, s);
  row("API requests, first apply", (r) => r.createRequests, k);
  row(
    "controller CPU s, first apply",
    (r) => r.createCpu,
    (x) => x.toFixed(1),
  );
  row("full reconcile of the unchanged set (requestedAt) → Ready", (r) => r.fullSeconds, s);
  row("API requests, full reconcile", (r) => r.fullRequests, k);
  row(
    "controller CPU s, full reconcile",
    (r) => r.fullCpu,
    (x) => x.toFixed(1),
  );
  row("reconciles in the no-op window", (r) => r.windowReconciles, k);
  row(
    "API requests per no-op reconcile (window)",
    per((r) => r.windowRequests),
    k,
  );
  row(
    "CPU s per no-op reconcile (window)",
    per((r) => r.windowCpu),
    (x) => x.toFixed(2),
  );
  row(
    "CPU s in the no-op window",
    (r) => r.windowCpu,
    (x) => x.toFixed(1),
  );
  lines.push(`| ${n} | load average at start (flux / capstan) | ${f?.load ?? "-"} | ${c?.load ?? "-"} | |`);
}
process.stdout.write(`${lines.join("\n")}\n`);
