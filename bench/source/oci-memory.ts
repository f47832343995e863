// What holds source-controller's memory after N OCIRepositories are Ready, and whether no-op rounds add to it: the
// controller runs in this process (the harness's wiring, the chart's --concurrent=4) so that, after a forced full GC
// (--expose-gc), the V8 heap, external memory, ArrayBuffers and RSS can be read after all Ready and after each round
// of N requested reconciles (an unchanged tag each: one manifest HEAD). Flat heap after GC across rounds = no leak;
// RSS above it = allocator and heap headroom. Also counts live handles and timers (an AbortSignal.timeout per
// reconcile holds a timer for spec.timeout).
//   cd bench && node --expose-gc --experimental-transform-types --no-warnings --conditions=capstan-source \
//     --import @capstan/cluster/ts-hooks.mjs source/oci-memory.ts --count=300 --rounds=5
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ensureBinaries, startControlPlane } from "@capstan/cluster";
import { startRegistry } from "@capstan/gitserver";
import { getCondition, KubeClient, type KubeObject, parseFlags } from "@capstan/runtime";
import { ensureCrds } from "../../packages/api/src/testing/index.js";
import { createSourceController } from "../../packages/source-controller/src/controller.js";
import { controllerName, sourceControllerFlags } from "../../packages/source-controller/src/flags.js";
import { pushFluxArtifact } from "./oci-artifact.js";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: { count: { type: "string", default: "300" }, rounds: { type: "string", default: "5" } },
});
const count = Number(values.count);
const rounds = Number(values.rounds);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

type Oci = KubeObject & { status?: { lastHandledReconcileAt?: string; artifact?: unknown } };
const mib = (b: number) => (b / 1024 / 1024).toFixed(1);

function sample(label: string): string {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  const handles = process.getActiveResourcesInfo().reduce<Record<string, number>>((acc, t) => {
    acc[t] = (acc[t] ?? 0) + 1;
    return acc;
  }, {});
  const top = Object.entries(handles)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  return `| ${label} | ${mib(m.heapUsed)} | ${mib(m.external)} | ${mib(m.arrayBuffers)} | ${mib(m.rss)} | ${top} |`;
}

const work = await mkdtemp(join(tmpdir(), "capstan-oci-memory-"));
await mkdir(join(work, "plane"));
const plane = await startControlPlane({ workloads: false, baseDir: join(work, "plane") });
const { path: binPath } = await ensureBinaries();
const registry = await startRegistry({ binPath });
const client = new KubeClient({ kubeconfigPath: plane.kubeconfig, qps: 0 });
const rows: string[] = [];
try {
  await ensureCrds(plane.kubeconfig);
  await mkdir(join(work, "src", "deploy"), { recursive: true });
  await writeFile(join(work, "src", "deploy", "app.yaml"), "v: 1\n");
  await pushFluxArtifact(binPath, registry, "bench/app:1.0.0", join(work, "src"), ["deploy"]);
  const ns = "oci-memory";
  await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  const parsed = parseFlags(controllerName, sourceControllerFlags, [
    "--health-addr=127.0.0.1:0",
    "--metrics-addr=127.0.0.1:0",
    "--watch-all-namespaces=false",
    `--namespace=${ns}`,
    "--log-level=error",
    `--storage-path=${join(work, "storage")}`,
    "--storage-addr=127.0.0.1:0",
    "--concurrent=4",
  ]);
  if (parsed.help) throw new Error("unexpected --help");
  const controller = await createSourceController({ flags: parsed.values, client, env: {}, handleSignals: false });
  const running = controller.run();
  const type = await client.resourceFor("source.toolkit.fluxcd.io/v1", "OCIRepository");
  const until = async (done: (items: Oci[]) => boolean) => {
    for (;;) {
      const { items } = await client.list<Oci>(type, { namespace: ns });
      if (items.length === count && done(items)) return;
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  rows.push(sample("controller started, no objects"));
  const names = Array.from({ length: count }, (_, i) => `app-${i}`);
  for (const name of names) {
    await client.create({
      apiVersion: "source.toolkit.fluxcd.io/v1",
      kind: "OCIRepository",
      metadata: { name, namespace: ns },
      spec: { interval: "1h", url: `oci://${registry.host}/bench/app`, ref: { tag: "1.0.0" }, insecure: true },
    });
  }
  await until((items) => items.every((o) => getCondition(o, "Ready")?.status === "True" && o.status?.artifact));
  rows.push(sample(`${count} Ready`));
  for (let r = 1; r <= rounds; r++) {
    const token = `round-${r}-${Date.now()}`;
    for (const name of names) {
      await client.mergePatch(
        { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "OCIRepository", namespace: ns, name },
        { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": token } } },
      );
    }
    await until((items) => items.every((o) => o.status?.lastHandledReconcileAt === token));
    rows.push(sample(`after no-op round ${r}`));
  }
  await new Promise((r) => setTimeout(r, 65_000));
  rows.push(sample("65 s later (spec.timeout timers gone)"));
  await controller.stop();
  await running.catch(() => undefined);
} finally {
  client.close();
  await registry.close();
  await plane.stop();
  await rm(work, { recursive: true, force: true });
}
process.stdout.write(
  [
    `${count} OCIRepositories, ${rounds} no-op rounds; after gc(): MiB`,
    "| when | heapUsed | external | arrayBuffers | rss | live handles (top 4) |",
    "|---|---|---|---|---|---|",
    ...rows,
    "",
  ].join("\n"),
);
