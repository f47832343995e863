// kustomize-controller at scale, in the shape of Flux's published benchmark (fluxcd/flux-benchmark): N
// Kustomizations, each applying a Deployment (0 replicas), ServiceAccount, Service and Ingress from one artifact
// served on loopback; time until all are Ready and peak RSS. Also: API requests per no-op interval of a
// 1,000-object Kustomization (drift watch + apply shortcut against Flux's dry-run-everything), and the apply time of
// those 1,000 objects against a plain one-request-per-object server-side apply loop. Prints a Markdown table.
//   pnpm --filter @capstan/bench bench:kustomize                  # N = 100, 500, 1000
//   pnpm --filter @capstan/bench bench:kustomize -- --quick       # N = 20 and 100 objects, a minute or two
//   pnpm --filter @capstan/bench bench:kustomize -- --sizes=100,500 --concurrent=4 --wait
// Set CAPSTAN_BENCH_KUBECONFIG to use a running cluster instead of starting a control plane.
import { execFile } from "node:child_process";
import { parseArgs, promisify } from "node:util";
import { type ControlPlane, ensureBinaries, startControlPlane } from "@capstan/cluster";
import { ensureCrds } from "../../packages/kustomize-controller/src/testing/harness.js";
import { type Env, noop, ratio, ready } from "./scenarios.js";

const { values } = parseArgs({
  // pnpm passes the `--` of `pnpm bench:kustomize -- --quick` through.
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: {
    scenario: { type: "string" },
    kubeconfig: { type: "string" },
    kustomize: { type: "string" },
    n: { type: "string" },
    sizes: { type: "string", default: "100,500,1000" },
    objects: { type: "string", default: "1000" },
    intervals: { type: "string", default: "10" },
    "full-every": { type: "string", default: "10" },
    "drift-watch": { type: "string", default: "true" },
    concurrent: { type: "string", default: "4" },
    wait: { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
  },
});

async function child(): Promise<void> {
  const env: Env = { kubeconfig: values.kubeconfig as string, kustomize: values.kustomize as string };
  let result: unknown;
  if (values.scenario === "ready") result = await ready(env, Number(values.n), Number(values.concurrent), values.wait);
  else if (values.scenario === "noop")
    result = await noop(
      env,
      Number(values.objects),
      Number(values.intervals),
      values["drift-watch"] === "true",
      Number(values["full-every"]),
    );
  else if (values.scenario === "ratio") result = await ratio(env, Number(values.objects));
  else throw new Error(`unknown scenario ${values.scenario}`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

const run = promisify(execFile);
async function scenario(env: Env, args: string[]): Promise<Record<string, unknown>> {
  process.stderr.write(`  running ${args.join(" ")}\n`);
  const { stdout } = await run(
    process.execPath,
    [
      ...process.execArgv,
      process.argv[1] as string,
      `--kubeconfig=${env.kubeconfig}`,
      `--kustomize=${env.kustomize}`,
      ...args,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const line = stdout.trim().split("\n").at(-1) ?? "{}";
  const result = JSON.parse(line) as Record<string, unknown>;
  process.stderr.write(`    ${line}\n`);
  return result;
}

const mib = (bytes: unknown) => `${((bytes as number) / 1024 / 1024).toFixed(0)} MiB`;
const s = (sec: unknown) => `${(sec as number).toFixed(1)} s`;

async function parent(): Promise<void> {
  const quick = values.quick;
  const sizes = (quick ? "20" : values.sizes).split(",").map(Number);
  const objects = quick ? 100 : Number(values.objects);
  const external = process.env.CAPSTAN_BENCH_KUBECONFIG;
  const plane: ControlPlane | undefined = external ? undefined : await startControlPlane({ workloads: true });
  const env: Env = {
    kubeconfig: external ?? (plane as ControlPlane).kubeconfig,
    kustomize: (await ensureBinaries()).bin.kustomize,
  };
  const rows: [string, string][] = [];
  try {
    await ensureCrds(env.kubeconfig);
    const { stdout: version } = await run(env.kustomize, ["version"]);
    process.stderr.write(`kustomize ${version.trim()}, node ${process.version}\n`);
    for (const n of sizes) {
      const r = await scenario(env, [
        "--scenario=ready",
        `--n=${n}`,
        `--concurrent=${values.concurrent}`,
        ...(values.wait ? ["--wait"] : []),
      ]);
      rows.push([
        `${n} Kustomizations → all Ready (--concurrent=${r.concurrent}${r.wait ? ", wait" : ""})`,
        `${s(r.seconds)}, peak RSS ${mib(r.peakRssBytes)} (${mib(r.baselineRssBytes)} at start), ${r.requests} API requests`,
      ]);
    }
    const intervals = quick ? 4 : Number(values.intervals);
    const fullEvery = Number(values["full-every"]);
    const watched = await scenario(env, [
      "--scenario=noop",
      `--objects=${objects}`,
      `--intervals=${intervals}`,
      `--full-every=${fullEvery}`,
    ]);
    const flux = await scenario(env, [
      "--scenario=noop",
      `--objects=${objects}`,
      "--intervals=3",
      "--drift-watch=false",
    ]);
    const per = watched.perInterval as number[];
    const fluxPer = flux.perInterval as number[];
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    rows.push([`${objects}-object Kustomization, first apply`, s(watched.firstApplySeconds)]);
    rows.push([
      `API requests per no-op interval, drift watch + shortcut (full dry-run every ${fullEvery}th)`,
      `${per.join(", ")} (mean ${avg(per).toFixed(0)})`,
    ]);
    rows.push([
      "GitRepository GETs / kustomize builds per no-op interval (drift watch + shortcut)",
      `${(watched.sourceGetsPerInterval as number[]).join(", ")} / ${(watched.buildsPerInterval as number[]).join(", ")}`,
    ]);
    rows.push([
      `API requests per no-op interval, --drift-watch=false (Flux's way)`,
      `${fluxPer.join(", ")} (mean ${avg(fluxPer).toFixed(0)})`,
    ]);
    const r = await scenario(env, ["--scenario=ratio", `--objects=${objects}`]);
    const div = (a: unknown, b: unknown) => ((a as number) / (b as number)).toFixed(2);
    rows.push([
      `apply ${objects} new objects: staged apply / kubectl apply --server-side`,
      `${s(r.createOurs)} / ${s(r.createKubectl)} = ${div(r.createOurs, r.createKubectl)}`,
    ]);
    rows.push([
      `apply ${objects} unchanged objects: staged apply / kubectl apply --server-side`,
      `${s(r.againOurs)} / ${s(r.againKubectl)} = ${div(r.againOurs, r.againKubectl)}`,
    ]);
    rows.push([
      `apply ${objects} new objects: staged apply / plain SSA loop`,
      `${s(r.createOurs)} / ${s(r.createLoop)} = ${((r.createOurs as number) / (r.createLoop as number)).toFixed(2)}`,
    ]);
    rows.push([
      `apply ${objects} unchanged objects: staged apply / plain SSA loop`,
      `${s(r.againOurs)} / ${s(r.againLoop)} = ${((r.againOurs as number) / (r.againLoop as number)).toFixed(2)}`,
    ]);
  } finally {
    await plane?.stop();
  }
  process.stdout.write("\n| measure | result |\n|---|---|\n");
  for (const [k, v] of rows) process.stdout.write(`| ${k} | ${v} |\n`);
}

if (values.scenario) await child();
else await parent();
