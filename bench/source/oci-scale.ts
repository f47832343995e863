// Many OCIRepositories against one registry (the flux-benchmark shape: every app pulls the same artifact from the
// CNCF distribution registry on loopback, plain HTTP, pushed once with oras): time from the first create to all Ready,
// the controller's peak RSS, and one no-op round (every object reconciled once with nothing new: one manifest HEAD
// each, no layer download).
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ensureBinaries } from "@capstan/cluster";
import { startRegistry } from "@capstan/gitserver";
import type { BenchContext } from "./context.js";
import { apiVersion, isReady, memoryOf, mib, pool, seconds, Watcher } from "./env.js";
import { pushFluxArtifact } from "./oci-artifact.js";

export async function benchOciScale(ctx: BenchContext, count: number): Promise<void> {
  const group = `${count} OCIRepositories`;
  const { path: binPath } = await ensureBinaries();
  const registry = await startRegistry({ binPath });
  const src = join(ctx.work, `oci-seed-${count}`);
  await mkdir(join(src, "deploy"), { recursive: true });
  await writeFile(join(src, "deploy/app.yaml"), "v: 1\n");
  await writeFile(join(src, "deploy/service.yaml"), "port: 80\n");
  await pushFluxArtifact(binPath, registry, "bench/app:1.0.0", src, ["deploy"]);
  const names = Array.from({ length: count }, (_, i) => `app-${String(i).padStart(4, "0")}`);
  const ns = await ctx.namespace(`bench-oci-${count}`);
  const controller = await ctx.startController(`oci-${count}`);
  const watcher = new Watcher(ctx.client, await ctx.client.resourceFor(apiVersion, "OCIRepository"), ns);
  await watcher.start();
  const pid = controller.process.child.pid ?? -1;
  try {
    const idle = await memoryOf(pid);
    const started = performance.now();
    await pool(names, 32, (name) =>
      ctx.client.create({
        apiVersion,
        kind: "OCIRepository",
        metadata: { name, namespace: ns, labels: ctx.label },
        spec: { interval: "1h", url: `oci://${registry.host}/bench/app`, ref: { semver: "1.x" }, insecure: true },
      }),
    );
    const allReady = (objects: Parameters<typeof isReady>[0][]) =>
      objects.length === count && objects.every((o) => isReady(o) && o.status?.artifact);
    const ready = await watcher.until(allReady, 30 * 60_000, `${count} Ready`);
    ctx.report.record(group, "first create → all Ready", seconds(ready - started));
    ctx.report.record(group, "throughput to Ready", `${((count * 1000) / (ready - started)).toFixed(1)} objects/s`);
    const afterBuild = await memoryOf(pid);
    const token = `noop-${Date.now()}`;
    const roundStart = performance.now();
    await pool(names, 32, (name) =>
      ctx.client.mergePatch(
        { apiVersion, kind: "OCIRepository", namespace: ns, name },
        { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": token } } },
      ),
    );
    const handled = await watcher.until(
      (objects) => objects.filter((o) => o.status?.lastHandledReconcileAt === token).length === count,
      30 * 60_000,
      "no-op round handled",
    );
    ctx.report.record(group, "no-op round (every object requested once)", seconds(handled - roundStart));
    const end = await memoryOf(pid);
    ctx.report.record(
      group,
      "controller RSS idle → after all Ready → end; peak",
      `${mib(idle.rssKiB)} → ${mib(afterBuild.rssKiB)} → ${mib(end.rssKiB)}; peak ${mib(end.peakKiB)}`,
    );
  } finally {
    watcher.stop();
    await controller.stop();
    await registry.close();
  }
}
