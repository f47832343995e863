// The flux-benchmark shape with OCIRepository sources next to the GitRepository variant (`--only=apps --apps=100`):
// N apps, each a source plus a Kustomization (bench/peer/workload.ts: interval 60m, prune, wait, timeout 1m, postBuild
// substitute, a ServiceAccount, a headless Service, a Deployment with 0 replicas and an Ingress), applied at once with
// `kubectl apply --server-side`; stop = all 2N Ready. The Git variant clones one repository from the git server; the
// OCI variant pulls the same files, pushed once with the pinned oras in `flux push artifact`'s media types, from the
// CNCF distribution registry on loopback (plain HTTP). Capstan's two controllers as bench/peer starts them (the
// chart's --concurrent=4, qps 50, burst 300), each variant on a fresh control plane with workloads, one after the
// other. Measured: apply → all Ready, then the upgrade (APP_VERSION changed in every Kustomization) → all Ready, CPU
// and peak RSS of both controllers.
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { ensureBinaries, startControlPlane } from "@capstan/cluster";
import { createTestRepo, startGitHttpServer, startRegistry } from "@capstan/gitserver";
import { KubeClient } from "@capstan/runtime";
import { ensureCrds } from "../../packages/api/src/testing/index.js";
import { cpuSeconds, peakRssKiB, sampleTreeRss } from "../peer/proc.js";
import { buildCapstan, type ControllerName, controllers, startCapstan } from "../peer/sides.js";
import {
  type AppsSource,
  appsNamespace,
  appsYaml,
  checkApplied,
  fluxNamespace,
  repoFiles,
  untilAllReady,
} from "../peer/workload.js";
import type { Report } from "./env.js";
import { pushFluxArtifact } from "./oci-artifact.js";

const run = promisify(execFile);
const loadavg = async () => (await readFile("/proc/loadavg", "utf8")).split(" ").slice(0, 3).join(" ");

interface Variant {
  label: string;
  source: AppsSource;
}

async function measure(work: string, n: number, v: Variant, report: Report): Promise<void> {
  const group = `${n} apps, ${v.source.kind}`;
  const dir = join(work, `${v.source.kind}-${n}`);
  await mkdir(dir, { recursive: true });
  const loadBefore = await loadavg();
  process.stderr.write(`[apps] ${group}: control plane (load ${loadBefore})\n`);
  const plane = await startControlPlane({ workloads: true, baseDir: dir });
  const kubectl = (await ensureBinaries()).bin.kubectl;
  const client = new KubeClient({ kubeconfigPath: plane.kubeconfig, qps: 0 });
  const limits = { concurrent: 4, qps: 50, burst: 300 };
  let side: Awaited<ReturnType<typeof startCapstan>> | undefined;
  try {
    await ensureCrds(plane.kubeconfig);
    for (const ns of [fluxNamespace, appsNamespace]) {
      await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    }
    side = await startCapstan((await ensureBinaries()).bin.kustomize, {
      kubeconfig: plane.kubeconfig,
      dir,
      limits,
      namespace: fluxNamespace,
    });
    const pids = side.controllers.map((c) => c.pid);
    const cpu0 = await Promise.all(pids.map(cpuSeconds));
    const sampler = sampleTreeRss(pids);
    const apply = async (version: string) => {
      const file = join(dir, `apps-${version}.yaml`);
      await writeFile(file, appsYaml(n, v.source, version));
      const t0 = performance.now();
      await run(
        kubectl,
        ["--kubeconfig", plane.kubeconfig, "apply", "--server-side", "--field-manager=bench", "-f", file],
        {
          maxBuffer: 64 * 1024 * 1024,
        },
      );
      const ready = await untilAllReady(client, n, Math.max(600_000, n * 6_000), v.source.kind);
      await checkApplied(client, n, version);
      return (ready - t0) / 1000;
    };
    const readySeconds = await apply("6.7.0");
    process.stderr.write(`[apps] ${group}: all Ready in ${readySeconds.toFixed(1)} s; upgrading\n`);
    const upgradeSeconds = await apply("6.7.1");
    const cpu = (await Promise.all(pids.map(cpuSeconds))).map((c, i) => c - (cpu0[i] ?? 0));
    const hwm = await Promise.all(pids.map(peakRssKiB));
    sampler.stop();
    const tree = sampler.peak();
    report.record(group, "apply → all Ready", `${readySeconds.toFixed(1)} s`);
    report.record(group, "upgrade → all Ready", `${upgradeSeconds.toFixed(1)} s`);
    controllers.forEach((c: ControllerName, i) => {
      report.record(group, `${c} CPU (self + children)`, `${(cpu[i] ?? Number.NaN).toFixed(1)} s`);
      report.record(
        group,
        `${c} peak RSS (VmHWM; sampled with children)`,
        `${((hwm[i] ?? Number.NaN) / 1024).toFixed(0)} MiB; ${((tree[i] ?? Number.NaN) / 1024).toFixed(0)} MiB`,
      );
    });
    report.record(group, "load average before → after", `${loadBefore} → ${await loadavg()}`);
  } catch (err) {
    const tails = side?.controllers.map((c) => `--- ${c.name}\n${c.tail()}`).join("\n") ?? "";
    throw new Error(`${group}: ${(err as Error).message}\n${tails}`, { cause: err });
  } finally {
    await side?.stop();
    client.close();
    await plane.stop();
  }
}

/** Runs both variants at each size in `sizes`, recording into `report`. */
export async function benchApps(work: string, sizes: readonly number[], report: Report): Promise<void> {
  await buildCapstan();
  const { path: binPath } = await ensureBinaries();
  const gitRoot = join(work, "apps-git");
  await mkdir(gitRoot, { recursive: true });
  const git = await startGitHttpServer({ root: gitRoot });
  const registry = await startRegistry({ binPath });
  try {
    const repo = await createTestRepo(gitRoot, "app.git", "main");
    await repo.commit(repoFiles());
    // The same files as an artifact: the repository's tree (app/...), as `flux push artifact` packs it.
    await pushFluxArtifact(binPath, registry, "bench/apps:1.0.0", repo.work, ["app"]);
    const variants: Variant[] = [
      { label: "oci", source: { kind: "OCIRepository", url: `oci://${registry.host}/bench/apps`, tag: "1.0.0" } },
      { label: "git", source: { kind: "GitRepository", url: `${git.url}/app.git` } },
    ];
    for (const n of sizes) for (const v of variants) await measure(work, n, v, report);
  } finally {
    await registry.close();
    await git.close();
  }
}
