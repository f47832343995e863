// Informer + work queue overhead with many objects against the local control plane: list time, events per second
// through informer → queue → workers, and memory. Prints one table; see ../README.md for recorded runs.
//   pnpm --filter @capstan/bench bench:runtime [-- --objects=10000 --workers=4]
// Set CAPSTAN_BENCH_KUBECONFIG to use a running cluster instead of starting a control plane.
import { parseArgs } from "node:util";
import { type ControlPlane, startControlPlane } from "@capstan/cluster";
import { createInformer, KubeClient, type KubeObject, objectKey, startWorkers, WorkQueue } from "@capstan/runtime";

const { values } = parseArgs({
  // `pnpm bench:x -- --flag` hands the "--" through; it separates nothing here.
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: { objects: { type: "string", default: "10000" }, workers: { type: "string", default: "4" } },
});
const count = Number(values.objects);
const workers = Number(values.workers);
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const figures: [string, string][] = [];
const record = (name: string, value: string) => {
  figures.push([name, value]);
  process.stderr.write(`  ${name}: ${value}\n`);
};

/** Runs `fn` over items with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

const external = process.env.CAPSTAN_BENCH_KUBECONFIG;
const plane: ControlPlane | undefined = external ? undefined : await startControlPlane({ workloads: false });
const kubeconfig = external ?? (plane as ControlPlane).kubeconfig;
const client = new KubeClient({ kubeconfigPath: kubeconfig, qps: 0 });
const ns = `bench-${Date.now().toString(36)}`;
try {
  await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  const configMaps = await client.resourceFor("v1", "ConfigMap");
  const names = Array.from({ length: count }, (_, i) => `cm-${i.toString().padStart(5, "0")}`);
  let t = performance.now();
  await pool(names, 32, (name) =>
    client.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: ns }, data: { v: "0" } }),
  );
  record(`create ${count} ConfigMaps (setup, 32 in flight)`, `${((performance.now() - t) / 1000).toFixed(1)} s`);

  t = performance.now();
  const listed = await client.list(configMaps, { namespace: ns, limit: 500 });
  let pages = 1;
  for (let cont = listed.continue; cont; pages++) {
    const page = await client.list(configMaps, { namespace: ns, limit: 500, continue: cont });
    cont = page.continue;
  }
  record(`paged list (${pages} pages of 500)`, `${(performance.now() - t).toFixed(0)} ms`);

  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const queue = new WorkQueue<string>();
  const processed = new Set<string>();
  let lastProcessed = 0;
  let firstEvent = 0;
  let lastEvent = 0;
  let events = 0;
  const informer = createInformer(client, configMaps, { namespace: ns });
  const enqueue = (obj: KubeObject) => {
    const now = performance.now();
    if (!firstEvent) firstEvent = now;
    lastEvent = now;
    events++;
    queue.add(objectKey(obj));
  };
  informer.addHandlers({ onAdd: enqueue, onUpdate: (_o: KubeObject, n: KubeObject) => enqueue(n), onDelete: enqueue });
  const pool1 = startWorkers(queue, workers, async (key) => {
    processed.add(key);
    lastProcessed = performance.now();
    return { type: "done" };
  });
  t = performance.now();
  await informer.start();
  const synced = performance.now() - t;
  while (processed.size < count) await new Promise((r) => setTimeout(r, 5));
  record("informer start → cache synced", `${synced.toFixed(0)} ms`);
  record(
    `informer → queue → ${workers} workers, initial adds`,
    `${count} keys in ${(lastProcessed - t).toFixed(0)} ms (${Math.round(count / ((lastProcessed - firstEvent) / 1000))} events/s)`,
  );
  record(
    "RSS with the cache full",
    `${mib(process.memoryUsage().rss)} (+${mib(process.memoryUsage().rss - rssBefore)})`,
  );

  // Updates through the watch: every object changes once; the watch delivers them while writes go on.
  processed.clear();
  events = 0;
  firstEvent = 0;
  t = performance.now();
  await pool(names, 32, (name) =>
    client.mergePatch({ apiVersion: "v1", kind: "ConfigMap", name, namespace: ns }, { data: { v: "1" } }),
  );
  const written = performance.now();
  while (processed.size < count) await new Promise((r) => setTimeout(r, 5));
  record(
    `patch ${count} ConfigMaps (32 in flight)`,
    `${((written - t) / 1000).toFixed(1)} s (${Math.round(count / ((written - t) / 1000))} writes/s)`,
  );
  record(
    "watch → queue → workers, updates",
    `${events} events over ${((lastEvent - firstEvent) / 1000).toFixed(1)} s (${Math.round(events / ((lastEvent - firstEvent) / 1000))} events/s); last key done ${(lastProcessed - written).toFixed(0)} ms after the last write`,
  );

  // The queue alone, to separate its overhead from the API's.
  const q = new WorkQueue<string>();
  let done = 0;
  const p2 = startWorkers(q, workers, async () => {
    done++;
    return { type: "done" };
  });
  t = performance.now();
  for (let round = 0; round < 10; round++) for (const name of names) q.add(name);
  while (done < count) await new Promise((r) => setImmediate(r));
  while (q.length + q.processing > 0) await new Promise((r) => setImmediate(r));
  record(
    `queue alone: ${10 * count} adds of ${count} keys`,
    `${(performance.now() - t).toFixed(0)} ms (${done} handled: adds merged)`,
  );
  q.shutDown();
  await p2.finished;

  informer.stop();
  queue.shutDown();
  await pool1.finished;
  record("peak RSS (process)", mib(process.resourceUsage().maxRSS * 1024));
  process.stdout.write(`\n| measure | result |\n|---|---|\n${figures.map(([k, v]) => `| ${k} | ${v} |`).join("\n")}\n`);
} finally {
  await client.delete({ apiVersion: "v1", kind: "Namespace", name: ns }).catch(() => undefined);
  client.close();
  await plane?.stop();
}
