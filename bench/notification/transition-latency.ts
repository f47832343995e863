// Status transition → POST received, with 1,000 GitRepositories and 10 Alerts (each selecting 100 of them by label,
// one generic Provider each), against a local control plane with the notification-controller running as a process
// (the chart's arguments). Prints p50/p90/p99/max for a paced stream and for a burst; see README.md for recorded runs.
//   pnpm --filter @capstan/bench bench:notification [-- --objects=1000 --alerts=10 --paced=500 --from-dist]
// Set CAPSTAN_BENCH_KUBECONFIG to use a running cluster instead of starting a control plane.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { type ControlPlane, startControlPlane } from "@capstan/cluster";
import { KubeClient } from "@capstan/runtime";
// Relative imports: the bench runs the sources (ts-hooks), and these helpers are test-only, not package exports.
import { ensureCrds } from "../../packages/api/src/testing/index.js";
import {
  createAlert,
  createProvider,
  rev,
  setRepo,
} from "../../packages/notification-controller/src/testing/cluster.js";
import { startControllerProcess } from "../../packages/notification-controller/src/testing/process.js";

const { values } = parseArgs({
  // `pnpm bench:x -- --flag` hands the "--" through; it separates nothing here.
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: {
    objects: { type: "string", default: "1000" },
    alerts: { type: "string", default: "10" },
    paced: { type: "string", default: "500" },
    "pace-ms": { type: "string", default: "20" },
    "from-dist": { type: "boolean", default: false },
  },
});
const objects = Number(values.objects);
const alerts = Number(values.alerts);
const paced = Math.min(Number(values.paced), objects);
const paceMs = Number(values["pace-ms"]);

async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

function percentiles(samples: number[]): Record<string, string> {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  const ms = (v: number) => `${v.toFixed(0)} ms`;
  return {
    n: String(s.length),
    p50: ms(at(0.5)),
    p90: ms(at(0.9)),
    p99: ms(at(0.99)),
    max: ms(s[s.length - 1] ?? Number.NaN),
  };
}

/** A webhook that stamps each POST with its arrival time, keyed by object and reason. */
async function startSink() {
  const arrivals = new Map<string, number[]>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const at = performance.now();
    const e = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
      involvedObject: { name: string };
      reason: string;
      metadata?: { revision?: string };
    };
    const key = `${e.involvedObject.name}/${e.reason}/${e.metadata?.revision ?? ""}`;
    arrivals.set(key, [...(arrivals.get(key) ?? []), at]);
    res.writeHead(200).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, arrivals, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const T0 = "2024-03-01T10:00:00Z";
const ready = (revision: string, at = T0) => ({
  status: "True" as const,
  reason: "Succeeded",
  message: `stored artifact for revision '${revision}'`,
  at,
});
const name = (i: number) => `app-${i.toString().padStart(4, "0")}`;

const external = process.env.CAPSTAN_BENCH_KUBECONFIG;
const plane: ControlPlane | undefined = external ? undefined : await startControlPlane({ workloads: false });
const kubeconfig = external ?? (plane as ControlPlane).kubeconfig;
const client = new KubeClient({ kubeconfigPath: kubeconfig, qps: 0 });
const ns = `bench-notif-${Date.now().toString(36)}`;
const sink = await startSink();
let controller: Awaited<ReturnType<typeof startControllerProcess>> | undefined;
const rows: [string, Record<string, string> | string][] = [];
try {
  await ensureCrds(kubeconfig);
  await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  let t = performance.now();
  const indexes = Array.from({ length: objects }, (_, i) => i);
  await pool(indexes, 32, async (i) => {
    await client.apply(
      {
        apiVersion: "source.toolkit.fluxcd.io/v1",
        kind: "GitRepository",
        metadata: { name: name(i), namespace: ns, labels: { shard: String(i % alerts) } },
        spec: { url: `https://git.example.com/${name(i)}.git`, interval: "1h" },
      },
      { fieldManager: "bench", force: true },
    );
    await setRepo(client, ns, name(i), { revision: rev(1), at: T0, ready: ready(rev(1)) });
  });
  rows.push([
    `setup: ${objects} GitRepositories with status (32 in flight)`,
    `${((performance.now() - t) / 1000).toFixed(1)} s`,
  ]);

  for (let a = 0; a < alerts; a++) {
    await createProvider(client, ns, `hook-${a}`, { type: "generic", address: `${sink.url}/alert-${a}` });
    await createAlert(client, ns, `shard-${a}`, {
      providerRef: { name: `hook-${a}` },
      eventSources: [{ kind: "GitRepository", name: "*", matchLabels: { shard: String(a) } }],
    });
  }
  t = performance.now();
  controller = await startControllerProcess({
    kubeconfig,
    namespace: ns,
    fromDist: values["from-dist"],
    args: ["--watch-all-namespaces=true"],
  });
  await controller.ready(120_000);
  const bound = () => controller?.logs.filter((l) => l.msg === "alert bound").length ?? 0;
  while (bound() < alerts) await new Promise((r) => setTimeout(r, 20));
  rows.push([
    `controller start → ${alerts} Alerts bound (caches synced, marks written)`,
    `${((performance.now() - t) / 1000).toFixed(1)} s`,
  ]);
  await new Promise((r) => setTimeout(r, 1_000));

  // Phase 1: a paced stream of new revisions, one object at a time.
  const sent = new Map<string, number>();
  for (let i = 0; i < paced; i++) {
    const key = `${name(i)}/NewArtifact/${rev(2)}`;
    sent.set(key, performance.now());
    void setRepo(client, ns, name(i), { revision: rev(2), at: T0, ready: ready(rev(2)) });
    await new Promise((r) => setTimeout(r, paceMs));
  }
  const waitFor = async (keys: string[], timeoutMs: number) => {
    const deadline = performance.now() + timeoutMs;
    while (keys.some((k) => !sink.arrivals.has(k)) && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await waitFor([...sent.keys()], 60_000);
  const latency = (keys: string[], from: Map<string, number>) =>
    keys.flatMap((k) => {
      const got = sink.arrivals.get(k)?.[0];
      return got === undefined ? [] : [got - (from.get(k) as number)];
    });
  rows.push([`paced: ${paced} new revisions, one every ${paceMs} ms`, percentiles(latency([...sent.keys()], sent))]);

  // Phase 2: every object fails at once (Ready False), written 32 at a time.
  const burst = new Map<string, number>();
  t = performance.now();
  await pool(indexes, 32, async (i) => {
    burst.set(`${name(i)}/GitOperationFailed/${i < paced ? rev(2) : rev(1)}`, performance.now());
    await setRepo(client, ns, name(i), {
      revision: i < paced ? rev(2) : rev(1),
      at: T0,
      ready: { status: "False", reason: "GitOperationFailed", message: `unable to clone ${name(i)}`, at: T0 },
    });
  });
  const written = performance.now();
  await waitFor([...burst.keys()], 120_000);
  const last = Math.max(...[...burst.keys()].map((k) => sink.arrivals.get(k)?.[0] ?? Number.NaN));
  rows.push([
    `burst: ${objects} objects turn Ready=False (32 writes in flight)`,
    percentiles(latency([...burst.keys()], burst)),
  ]);
  rows.push(["burst: last write → last POST received", `${(last - written).toFixed(0)} ms`]);

  const expected = new Set([...sent.keys(), ...burst.keys()]);
  const missing = [...expected].filter((k) => !sink.arrivals.has(k)).length;
  const duplicates = [...sink.arrivals.values()].filter((v) => v.length > 1).length;
  const unexpected = [...sink.arrivals.keys()].filter((k) => !expected.has(k)).length;
  rows.push(["notifications missing / duplicated / unexpected", `${missing} / ${duplicates} / ${unexpected}`]);
  const { code } = await controller.terminate();
  rows.push(["controller exit code after SIGTERM", String(code)]);
} finally {
  await controller?.kill();
  await sink.close();
  await client.delete({ apiVersion: "v1", kind: "Namespace", name: ns }).catch(() => undefined);
  client.close();
  await plane?.stop();
}

process.stdout.write("\n| measure | result |\n|---|---|\n");
for (const [measure, result] of rows) {
  const text =
    typeof result === "string"
      ? result
      : `n=${result.n} p50 ${result.p50}, p90 ${result.p90}, p99 ${result.p99}, max ${result.max}`;
  process.stdout.write(`| ${measure} | ${text} |\n`);
}
