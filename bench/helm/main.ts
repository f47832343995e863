// helm-controller at scale: N HelmReleases of one small chart (from a HelmRepository on loopback, packaged by the real
// `helm package`) until all are Ready, with the peak RSS and CPU seconds of helm-controller and the helm processes it
// forks, beside N Kustomizations applying the same objects (kustomize-controller, one GitRepository). Each side runs
// the controllers as processes with their chart's args (tools/devenv's harness, as the e2e tests and the demo), in a
// namespace of its own, one side after the other. Prints a Markdown table.
//   pnpm --filter @capstan/bench bench:helm -- --releases 100
//   pnpm --filter @capstan/bench bench:helm -- --releases 100,500 --side helm
// Set CAPSTAN_BENCH_KUBECONFIG to use a running cluster instead of starting a control plane.
import { execFile } from "node:child_process";
import { parseArgs, promisify } from "node:util";
import { type ControlPlane, startControlPlane } from "@capstan/cluster";
import { ensureCrds } from "../../packages/api/src/testing/index.js";
import type { HelmBreakdown } from "./metrics.js";
import { running, runSide, type SideResult } from "./side.js";

const { values } = parseArgs({
  // pnpm passes the `--` of `pnpm bench:helm -- --releases 100` through.
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: {
    releases: { type: "string", default: "100" },
    side: { type: "string", default: "both" },
  },
});

const sizes = (values.releases as string).split(",").map(Number);
const sides = values.side === "both" ? (["helm", "kustomize"] as const) : [values.side as "helm" | "kustomize"];
for (const s of sides) if (s !== "helm" && s !== "kustomize") throw new Error(`--side: helm, kustomize or both`);

const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;
const load = async () => {
  const { stdout } = await promisify(execFile)("uptime");
  return stdout.trim().replace(/^.*load average:\s*/, "");
};

const external = process.env.CAPSTAN_BENCH_KUBECONFIG;
const plane: ControlPlane | undefined = external ? undefined : await startControlPlane({ workloads: true });
const kubeconfig = external ?? (plane as ControlPlane).kubeconfig;
const rows: string[] = [];
const splits: string[] = [];
// Ctrl-C (or a kill) still stops the controllers and the control plane: they are this process's children.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    process.stderr.write(`${signal}: stopping the controllers and the control plane\n`);
    void Promise.all([...running].map((c) => c()))
      .then(() => plane?.stop())
      .finally(() => process.exit(130));
  });
}
try {
  await ensureCrds(kubeconfig);
  for (const n of sizes) {
    for (const side of sides) {
      const before = await load();
      process.stderr.write(`${side}: ${n} objects (load average ${before})\n`);
      const r: SideResult = await runSide(kubeconfig, side, n);
      process.stderr.write(`  ${JSON.stringify(r)}\n`);
      const kind = side === "helm" ? "HelmReleases" : "Kustomizations";
      const main = r.controllers[0];
      const source = r.controllers[1];
      if (!main || !source) throw new Error("internal: a side without its two controllers");
      rows.push(
        `| ${n} ${kind} → all Ready | ${r.seconds.toFixed(1)} s | ${main.name}: ${mib(main.peakTreeKiB)} ` +
          `(own ${mib(main.peakOwnKiB)}, ${mib(main.startKiB)} at start), ${main.cpuSeconds.toFixed(1)} CPU s ` +
          `(${main.ownCpuSeconds.toFixed(1)} own + ${main.childCpuSeconds.toFixed(1)} children; ` +
          `${((main.cpuSeconds / n) * 1000).toFixed(0)} ms per object) | ` +
          `${source.name}: ${mib(source.peakTreeKiB)}, ${source.cpuSeconds.toFixed(1)} CPU s | ${before} → ${await load()} |`,
      );
      if (r.helm) splits.push(split(n, main.ownCpuSeconds, r.helm));
    }
  }
} finally {
  await plane?.stop();
}
process.stdout.write(
  "\n| run | time | controller: peak RSS of its process tree (own process peak, at start), CPU s of it and its " +
    "reaped children (split) | source-controller | load average (1, 5, 15 min) before → after |\n|---|---|---|---|---|\n",
);
for (const r of rows) process.stdout.write(`${r}\n`);
for (const s of splits) process.stdout.write(s);

/** Where helm-controller's CPU went: its own process, each helm command it forked, and the chart fetches. */
function split(n: number, ownCpu: number, b: HelmBreakdown): string {
  const forks = Object.entries(b.forks).sort((x, y) => y[1].cpuSeconds - x[1].cpuSeconds);
  const lines = [
    `\nhelm-controller, ${n} HelmReleases: where the CPU went\n`,
    "| part | count | CPU s | CPU ms each |",
    "|---|---|---|---|",
    `| controller process (Node: reconciles, informers, status, chart fetch) | | ${ownCpu.toFixed(1)} | ${((ownCpu / n) * 1000).toFixed(0)} per release |`,
    ...forks.map(
      ([cmd, f]) =>
        `| helm ${cmd} (forked) | ${f.count} | ${f.cpuSeconds.toFixed(1)} | ${f.count ? ((f.cpuSeconds / f.count) * 1000).toFixed(0) : "-"} |`,
    ),
    `| charts prepared: ${Object.entries(b.charts)
      .map(([k, v]) => `${v} ${k}`)
      .join(", ")} | | | |`,
    `| reconciles: ${Object.entries(b.reconciles)
      .map(([k, v]) => `${v} ${k}`)
      .join(", ")} | | | |`,
    "",
    "reconcile trace, wall seconds summed over all HelmRelease reconciles (overlapping: --concurrent workers):",
    "| step | reconciles | wall s | ms each |",
    "|---|---|---|---|",
    ...Object.entries(b.steps)
      .sort((x, y) => y[1].seconds - x[1].seconds)
      .map(
        ([step, t]) =>
          `| ${step} | ${t.count} | ${t.seconds.toFixed(1)} | ${t.count ? ((t.seconds / t.count) * 1000).toFixed(0) : "-"} |`,
      ),
    "",
  ];
  return `${lines.join("\n")}\n`;
}
