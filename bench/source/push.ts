// Push → new artifact in status: how long after `git push` a watcher sees status.artifact at the new revision,
// (a) with interval polling only, pushes at random moments within the interval, and (b) when the push is followed
// by a reconcile.fluxcd.io/requestedAt annotation (what a Receiver webhook does).
import { rm } from "node:fs/promises";
import { createTestRepo, type TestRepo } from "@capstan/gitserver";
import type { BenchContext } from "./context.js";
import { gitRepository, millis, percentile, sleep } from "./env.js";

export interface PushOptions {
  samples: number;
  intervalSeconds: number;
}

export async function benchPush(ctx: BenchContext, options: PushOptions): Promise<void> {
  const group = "push → artifact";
  const ns = await ctx.namespace("bench-push");
  const controller = await ctx.startController("push");
  const watcher = await ctx.watcher(ns);
  const repos: TestRepo[] = [];
  try {
    const polled = await createTestRepo(ctx.gitRoot, "push-polled.git", "main");
    const requested = await createTestRepo(ctx.gitRoot, "push-requested.git", "main");
    repos.push(polled, requested);
    for (const r of [polled, requested]) await r.commit({ "app.yaml": "v: 0\n" });
    const create = (name: string, repo: TestRepo, interval: string) =>
      ctx.client.create({
        ...gitRepository(ns, name, { interval, url: `${ctx.gitUrl}/${repo.name}`, ref: { branch: "main" } }),
        metadata: { name, namespace: ns, labels: ctx.label },
      });
    await create("polled", polled, `${options.intervalSeconds}s`);
    await create("requested", requested, "1h");
    for (const name of ["polled", "requested"]) {
      await watcher.untilOne(name, (o) => Boolean(o.status?.artifact), 60_000);
    }

    const atRevision = (commit: string) => (o: { status?: { artifact?: { revision?: string } } }) =>
      o.status?.artifact?.revision === `main@sha1:${commit}`;

    const pollLatencies: number[] = [];
    for (let i = 1; i <= options.samples; i++) {
      // A random phase within the interval, so the samples spread over it as real pushes would.
      await sleep(Math.random() * options.intervalSeconds * 1000);
      const commit = await polled.commit({ "app.yaml": `v: ${i}\n` });
      const pushed = performance.now();
      const seen = await watcher.untilOne("polled", atRevision(commit), (options.intervalSeconds + 60) * 1000);
      pollLatencies.push(seen - pushed);
    }
    ctx.report.record(
      group,
      `interval ${options.intervalSeconds}s, ${options.samples} pushes: median / max`,
      `${millis(percentile(pollLatencies, 50))} / ${millis(Math.max(...pollLatencies))}`,
    );

    const requestLatencies: number[] = [];
    for (let i = 1; i <= options.samples * 2; i++) {
      const commit = await requested.commit({ "app.yaml": `v: ${i}\n` });
      const pushed = performance.now();
      await ctx.client.mergePatch(
        { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", namespace: ns, name: "requested" },
        { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": `bench-${i}` } } },
      );
      const seen = await watcher.untilOne("requested", atRevision(commit), 60_000);
      requestLatencies.push(seen - pushed);
    }
    ctx.report.record(
      group,
      `requestedAt annotation after push, ${requestLatencies.length} pushes: median / p90 / max`,
      `${millis(percentile(requestLatencies, 50))} / ${millis(percentile(requestLatencies, 90))} / ${millis(Math.max(...requestLatencies))}`,
    );
  } finally {
    watcher.stop();
    await controller.stop();
    for (const r of repos) await rm(r.work, { recursive: true, force: true });
  }
}
