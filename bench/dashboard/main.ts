// The dashboard with 5,000 Kustomizations (10 inventory entries each) in headless Chromium: time until the overview
// and the list are interactive, status change → visible in the DOM (p50/p99), and the server's RSS and CPU while idle
// and during a burst of 1,000 status changes. The server runs as its own process from dist (as the image runs it).
//   pnpm --filter @capstan/bench bench:dashboard [-- --objects=5000 --changes=100 --burst=1000 --loads=10]
//     [--compare=<another build's packages/dashboard/dist/server/main.js>]
// Each page load is timed `loads` times, each in a fresh browser context (nothing cached), for p50/p99; with
// --compare, the other build's loads alternate with this one's, so both see the same load on a shared machine.
// Set CAPSTAN_BENCH_KUBECONFIG to use a running cluster instead of starting a control plane.
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { Fixtures, fixtureFlags, fm, pct, pool, usage } from "./fixtures.js";
import { conditions, newPage, timeLoad } from "./loads.js";
import { type Bench, dashboardMain, withBench } from "./setup.js";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: {
    ...fixtureFlags,
    changes: { type: "string", default: "100" },
    burst: { type: "string", default: "1000" },
    loads: { type: "string", default: "10" },
    /** Another build's dist/server/main.js, whose page loads are timed in turn with this one's. */
    compare: { type: "string" },
  },
});
const objects = Number(values.objects);
const namespaces = Number(values.namespaces);
const changes = Number(values.changes);
const burst = Number(values.burst);
const loads = Number(values.loads);
const fixtures = new Fixtures(objects, namespaces);
const { ns, ksName } = fixtures;

/** Adds to `rows` what it measures. */
async function measure({ client, browser, populate, startDashboard }: Bench, rows: [string, string][]): Promise<void> {
  let t = Date.now();
  // Against a running cluster (CAPSTAN_BENCH_KUBECONFIG) that already holds them, the objects are reused, and
  // those the last run changed (the burst's) are put back as they were.
  await populate(fixtures, burst);
  rows.push([`create ${objects} Kustomizations + status (setup)`, `${((Date.now() - t) / 1000).toFixed(1)} s`]);

  t = Date.now();
  const dashboard = await startDashboard(dashboardMain);
  const url = dashboard.url;
  rows.push(["server start → caches synced (/readyz)", `${Date.now() - t} ms`]);
  const pid = dashboard.process.pid as number;
  // --compare: another build's server, loaded in turn with this one (same load on the machine for both).
  const other = values.compare ? await startDashboard(resolve(values.compare)) : undefined;

  const cond = conditions(objects);
  const runs = [{ name: "", url }, ...(other ? [{ name: " [compare]", url: other.url }] : [])];
  const times = new Map<string, number[]>();
  const marks = new Map<string, number[]>();
  const note = (m: Map<string, number[]>, k: string, v: number | undefined) => {
    if (v !== undefined) m.set(k, [...(m.get(k) ?? []), v]);
  };
  rows.push(["load average (1 min) before the page loads", loadavg()[0]?.toFixed(1) ?? "?"]);
  for (let k = 0; k < loads; k++) {
    for (const run of runs) {
      const p = await newPage(browser);
      const o = await timeLoad(p, run.url, { overview: cond.overview });
      await p.context().close();
      note(times, `overview${run.name}`, o.times.overview);
      for (const [m, v] of Object.entries(o.marks)) note(marks, `overview${run.name} ${m}`, v);
      const q = await newPage(browser);
      const l = await timeLoad(q, `${run.url}/#/apps`, { rows: cond.listRows, all: cond.listAll });
      await q.context().close();
      note(times, `list rows${run.name}`, l.times.rows);
      note(times, `list all${run.name}`, l.times.all);
      for (const [m, v] of Object.entries(l.marks)) note(marks, `list${run.name} ${m}`, v);
    }
  }
  const pcts = (xs: number[] = []) => `p50 ${pct(xs, 0.5)} ms, p99 ${pct(xs, 0.99)} ms (${xs.length} loads)`;
  const median = (xs: number[] = []) => pct(xs, 0.5);
  for (const run of runs) {
    rows.push([
      `overview interactive (${objects} counted, failing listed), fresh context${run.name}`,
      pcts(times.get(`overview${run.name}`)),
    ]);
    rows.push([`list: first rows shown${run.name}`, pcts(times.get(`list rows${run.name}`))]);
    rows.push([
      `list interactive (all ${objects} rows filterable, windowed), fresh context${run.name}`,
      pcts(times.get(`list all${run.name}`)),
    ]);
    for (const page of ["overview", "list"]) {
      const phase = (m: string) => median(marks.get(`${page}${run.name} ${m}`));
      rows.push([
        `  ${page}, page clock (p50): DOMContentLoaded / stream open / first part in model / rendered / all in model`,
        `${phase("domContentLoaded")} / ${phase("stream-open")} / ${phase("snapshot")} / ${phase(page)} / ${phase("complete")} ms`,
      ]);
    }
  }
  rows.push(["load average (1 min) after the page loads", loadavg()[0]?.toFixed(1) ?? "?"]);
  other?.process.kill("SIGTERM");
  const page = await newPage(browser);
  await page.goto(`${url}/#/apps`);
  await page.waitForFunction(`document.body.textContent.includes('${objects} of ${objects} applications')`, undefined, {
    timeout: 60_000,
    polling: "raf",
  });
  const domRows = await page.evaluate(`document.querySelectorAll("tbody tr[data-key]").length`);
  rows.push(["rows in the DOM", String(domRows)]);
  t = Date.now();
  await page.getByRole("searchbox", { name: "Search" }).fill("app-4999");
  await page.waitForFunction(`document.body.textContent.includes('1 of ${objects} applications')`, undefined, {
    polling: "raf",
  });
  rows.push(["filter by text → list updated", `${Date.now() - t} ms`]);

  // Change → DOM: the page records when each message first appears; the write's start is the clock's zero.
  const target = 1;
  await page.goto(`${url}/#/apps/${ns(target)}/${ksName(target)}`);
  await page.getByTestId("status-message").waitFor();
  await page.evaluate(`(() => {
    const seen = {};
    window.seen = seen;
    new MutationObserver(() => {
      const text = document.querySelector('[data-testid="status-message"]')?.textContent ?? "";
      if (text.startsWith("bench-") && !(text in seen)) seen[text] = Date.now();
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  })()`);
  const latencies: number[] = [];
  for (let k = 0; k < changes; k++) {
    const msg = `bench-${k}`;
    const start = Date.now();
    await client.applyStatus(fixtures.ready(target, msg, k % 2 ? "True" : "False"), fm);
    const seenAt = await page.waitForFunction(`window.seen[${JSON.stringify(msg)}]`, undefined, { timeout: 10_000 });
    latencies.push(((await seenAt.jsonValue()) as number) - start);
  }
  rows.push([
    `status change → DOM (${changes} changes, one at a time)`,
    `p50 ${pct(latencies, 0.5)} ms, p99 ${pct(latencies, 0.99)} ms, max ${Math.max(...latencies)} ms`,
  ]);

  const idle0 = usage(pid);
  await new Promise((r) => setTimeout(r, 10_000));
  const idle1 = usage(pid);
  rows.push([
    "server idle: RSS, CPU over 10 s",
    `${idle1.rssMiB.toFixed(0)} MiB, ${((idle1.cpuS - idle0.cpuS) * 10).toFixed(1)}% of a core`,
  ]);

  let peak = idle1.rssMiB;
  const sampler = setInterval(() => {
    peak = Math.max(peak, usage(pid).rssMiB);
  }, 100);
  const b0 = usage(pid);
  t = Date.now();
  const burstIds = Array.from({ length: Math.min(burst, objects) }, (_, k) => k);
  await pool(burstIds, 32, (i) => client.applyStatus(fixtures.ready(i, `burst ${i}`, "True"), fm));
  const writes = Date.now() - t;
  // The list page must have caught up: the last object written shows its new message on the app page.
  const last = burstIds[burstIds.length - 1] as number;
  await page.goto(`${url}/#/apps/${ns(last)}/${ksName(last)}`);
  await page
    .getByTestId("status-message")
    .filter({ hasText: `burst ${last}` })
    .waitFor();
  const b1 = usage(pid);
  clearInterval(sampler);
  rows.push([
    `burst of ${burstIds.length} status changes (32 in flight, ${writes} ms of writes)`,
    `server CPU ${(b1.cpuS - b0.cpuS).toFixed(2)} s, peak RSS ${peak.toFixed(0)} MiB`,
  ]);
}

async function main(): Promise<void> {
  const rows: [string, string][] = [];
  await withBench((bench) => measure(bench, rows));
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log(`\n| ${"measure".padEnd(width)} | result |\n|${"-".repeat(width + 2)}|--------|`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(width)} | ${v} |`);
}

await main();
