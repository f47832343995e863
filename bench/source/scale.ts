// Many GitRepositories against one git server: time from the first create to all Ready, the controller's peak RSS,
// and the git processes it spawns for one no-op round (every object reconciled once with nothing new upstream).
import { cp, rm } from "node:fs/promises";
import { join } from "node:path";
import { createTestRepo } from "@capstan/gitserver";
import type { BenchContext } from "./context.js";
import { gitRepository, isReady, memoryOf, mib, pool, seconds } from "./env.js";

export async function benchScale(ctx: BenchContext, count: number): Promise<void> {
  const group = `${count} GitRepositories`;
  // One repository per object (copies of one bare repository: same content, separate remotes).
  const seed = await createTestRepo(ctx.gitRoot, `scale-seed-${count}.git`, "main");
  await seed.commit({ "deploy/app.yaml": "v: 1\n", "deploy/service.yaml": "port: 80\n", README: "seed\n" });
  await rm(seed.work, { recursive: true, force: true });
  const names = Array.from({ length: count }, (_, i) => `repo-${String(i).padStart(4, "0")}`);
  await pool(names, 16, (name) =>
    cp(seed.bare, join(ctx.gitRoot, `scale-${count}`, `${name}.git`), { recursive: true }),
  );

  const ns = await ctx.namespace(`bench-scale-${count}`);
  const controller = await ctx.startController(`scale-${count}`);
  const watcher = await ctx.watcher(ns);
  const pid = controller.process.child.pid ?? -1;
  try {
    const idle = await memoryOf(pid);
    const started = performance.now();
    await pool(names, 32, (name) =>
      ctx.client.create({
        ...gitRepository(ns, name, {
          interval: "1h",
          url: `${ctx.gitUrl}/scale-${count}/${name}.git`,
          ref: { branch: "main" },
        }),
        metadata: { name, namespace: ns, labels: ctx.label },
      }),
    );
    const created = performance.now();
    const allReady = (objects: Parameters<typeof isReady>[0][]) =>
      objects.length === count && objects.every((o) => isReady(o) && o.status?.artifact);
    const ready = await watcher.until(allReady, 30 * 60_000, `${count} Ready`);
    ctx.report.record(group, `create all (32 in flight)`, seconds(created - started));
    ctx.report.record(group, "first create → all Ready", seconds(ready - started));
    ctx.report.record(group, "throughput to Ready", `${((count * 1000) / (ready - started)).toFixed(1)} objects/s`);
    const afterBuild = await memoryOf(pid);

    // One no-op round: request a reconcile of every object and count what git ran for it.
    const before = await controller.shim.invocations();
    const token = `noop-${Date.now()}`;
    const roundStart = performance.now();
    await pool(names, 32, (name) =>
      ctx.client.mergePatch(
        { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", namespace: ns, name },
        { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": token } } },
      ),
    );
    const handled = await watcher.until(
      (objects) => objects.filter((o) => o.status?.lastHandledReconcileAt === token).length === count,
      30 * 60_000,
      "no-op round handled",
    );
    const round = (await controller.shim.invocations()).slice(before.length);
    const by = (sub: string) => round.filter((args) => args[0] === sub).length;
    ctx.report.record(group, "no-op round (every object requested once)", seconds(handled - roundStart));
    ctx.report.record(
      group,
      "git processes per object per no-op reconcile",
      `${(round.length / count).toFixed(2)} (ls-remote ${by("ls-remote")}, fetch ${by("fetch")}, other ${round.length - by("ls-remote") - by("fetch")})`,
    );
    const end = await memoryOf(pid);
    ctx.report.record(
      group,
      "controller RSS idle → after all Ready → end; peak",
      `${mib(idle.rssKiB)} → ${mib(afterBuild.rssKiB)} → ${mib(end.rssKiB)}; peak ${mib(end.peakKiB)}`,
    );
  } finally {
    watcher.stop();
    await controller.stop();
  }
}
