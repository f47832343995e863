// source-controller benchmarks. Prints one table (Markdown) on stdout, progress on stderr; see README.md.
//   pnpm --filter @capstan/bench bench:source [-- --quick] [-- --only=push,scale,build,oci] [-- --scale=100,1000]
//   pnpm --filter @capstan/bench bench:source -- --only=apps --apps=100,500   (apps.ts: OCI and Git apps, own planes)
// Starts its own control plane unless CAPSTAN_BENCH_KUBECONFIG names a running cluster.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type ControlPlane, startControlPlane } from "@capstan/cluster";
import { startGitHttpServer } from "@capstan/gitserver";
import { KubeClient } from "@capstan/runtime";
import { ensureCrds } from "../../packages/api/src/testing/index.js";
import { buildDist } from "../../packages/source-controller/src/testing/process.js";
import { benchApps } from "./apps.js";
import { benchBuild } from "./build.js";
import { createContext } from "./context.js";
import { Report } from "./env.js";
import { benchOciScale } from "./oci-scale.js";
import { benchPush } from "./push.js";
import { benchScale } from "./scale.js";

const { values } = parseArgs({
  // `pnpm bench:x -- --flag` hands the "--" through; it separates nothing here.
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string", default: "push,scale,build" },
    scale: { type: "string" },
    files: { type: "string" },
    apps: { type: "string", default: "100" },
  },
});
const quick = values.quick ?? false;
const only = new Set((values.only ?? "").split(","));
const scales = (values.scale ?? (quick ? "100" : "100,1000")).split(",").map(Number);
const files = Number(values.files ?? (quick ? 2_000 : 20_000));

process.stderr.write("building dist/ (turbo)...\n");
await buildDist();
// The apps scenario starts its own control planes (with workloads) and servers: run alone, nothing else is started.
if (only.has("apps")) {
  const appsWork = await mkdtemp(join(tmpdir(), "capstan-bench-apps-"));
  const appsReport = new Report();
  try {
    await benchApps(appsWork, (values.apps ?? "100").split(",").map(Number), appsReport);
  } finally {
    await rm(appsWork, { recursive: true, force: true });
  }
  appsReport.print();
  only.delete("apps");
  if (only.size === 0) process.exit(0);
}
const external = process.env.CAPSTAN_BENCH_KUBECONFIG;
const plane: ControlPlane | undefined = external ? undefined : await startControlPlane({ workloads: false });
const kubeconfig = external ?? (plane as ControlPlane).kubeconfig;
const work = await mkdtemp(join(tmpdir(), "capstan-bench-source-"));
const git = await startGitHttpServer({ root: join(work, "git") });
const client = new KubeClient({ kubeconfigPath: kubeconfig, qps: 0 });
const report = new Report();
const ctx = await (async () => {
  await ensureCrds(kubeconfig);
  return createContext({
    client,
    kubeconfig,
    report,
    work,
    gitRoot: join(work, "git"),
    gitUrl: git.url,
    runId: Date.now().toString(36),
  });
})();
try {
  if (only.has("push"))
    await benchPush(ctx, quick ? { samples: 3, intervalSeconds: 5 } : { samples: 8, intervalSeconds: 10 });
  if (only.has("scale")) for (const n of scales) await benchScale(ctx, n);
  if (only.has("build")) await benchBuild(ctx, { files, runs: quick ? 2 : 3 });
  // Opt-in (--only=oci): OCIRepositories pulling from the distribution registry, at the --scale sizes.
  if (only.has("oci")) for (const n of scales) await benchOciScale(ctx, n);
  report.print();
} finally {
  await ctx.dispose();
  client.close();
  await git.close();
  await plane?.stop();
  await rm(work, { recursive: true, force: true });
}
