// The dashboard with 5,000 Kustomizations (10 inventory entries each) in headless Chromium: time until the overview
// and the list are interactive, status change → visible in the DOM (p50/p99), and the server's RSS and CPU while idle
// and during a burst of 1,000 status changes. The server runs as its own process from dist (as the image runs it).
//   pnpm --filter @capstan/bench bench:dashboard [-- --objects=5000 --changes=100 --burst=1000 --loads=10]
// Each page load is timed `loads` times, each in a fresh browser context (nothing cached), for p50/p99.
// Set CAPSTAN_BENCH_KUBECONFIG to use a running cluster instead of starting a control plane.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { type ControlPlane, freePort, startControlPlane } from "@capstan/cluster";
import { KubeClient } from "@capstan/runtime";
// Relative imports: test-only helpers of other packages, run from source (ts-hooks).
import { ensureCrds } from "../../packages/api/src/testing/index.js";
import { launchChromium } from "../../packages/dashboard/src/test/browser.js";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: {
    objects: { type: "string", default: "5000" },
    namespaces: { type: "string", default: "50" },
    changes: { type: "string", default: "100" },
    burst: { type: "string", default: "1000" },
    loads: { type: "string", default: "10" },
  },
});
const objects = Number(values.objects);
const namespaces = Number(values.namespaces);
const changes = Number(values.changes);
const burst = Number(values.burst);
const loads = Number(values.loads);
const fm = { fieldManager: "bench-dashboard", force: true };
const rev = (n: number) => `main@sha1:${n.toString(16).padStart(40, "0")}`;
const dashboardMain = resolve(import.meta.dirname, "../../packages/dashboard/dist/server/main.js");

async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

function pct(samples: number[], q: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
}

/** RSS (MiB) and CPU time (s) of a process, from /proc. */
function usage(pid: number): { rssMiB: number; cpuS: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssMiB: rss, cpuS: ticks / 100 };
}

const ns = (i: number) => `bench-dash-${i % namespaces}`;
const ksName = (i: number) => `app-${i}`;

function ready(i: number, message: string, status: "True" | "False" = "True") {
  return {
    apiVersion: "kustomize.toolkit.fluxcd.io/v1",
    kind: "Kustomization",
    metadata: { name: ksName(i), namespace: ns(i) },
    status: {
      observedGeneration: 1,
      lastAppliedRevision: rev(1),
      lastAttemptedRevision: rev(1),
      inventory: {
        entries: Array.from({ length: 10 }, (_, k) => ({ id: `${ns(i)}_${ksName(i)}-${k}__ConfigMap`, v: "v1" })),
      },
      conditions: [
        {
          type: "Ready",
          status,
          reason: status === "True" ? "ReconciliationSucceeded" : "ReconciliationFailed",
          message,
          lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
          observedGeneration: 1,
        },
      ],
    },
  };
}

async function main(): Promise<void> {
  let plane: ControlPlane | undefined;
  let server: ChildProcess | undefined;
  if (!process.env.CAPSTAN_BENCH_KUBECONFIG) plane = await startControlPlane({ workloads: false });
  const kubeconfig = process.env.CAPSTAN_BENCH_KUBECONFIG ?? (plane as ControlPlane).kubeconfig;
  const client = new KubeClient({ kubeconfigPath: kubeconfig, qps: 0 });
  const rows: [string, string][] = [];
  const browser = await launchChromium();
  try {
    await ensureCrds(kubeconfig);
    let t = Date.now();
    for (let n = 0; n < namespaces; n++) {
      await client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: `bench-dash-${n}` } }, fm);
    }
    await pool(
      Array.from({ length: objects }, (_, i) => i),
      32,
      async (i) => {
        await client.apply(
          {
            apiVersion: "kustomize.toolkit.fluxcd.io/v1",
            kind: "Kustomization",
            metadata: { name: ksName(i), namespace: ns(i) },
            spec: {
              interval: "10m",
              prune: true,
              path: `./apps/${i}`,
              sourceRef: { kind: "GitRepository", name: "repo" },
            },
          },
          fm,
        );
        // One in fifty failing, so that the overview has something to put first.
        await client.applyStatus(
          ready(i, i % 50 === 0 ? `dry-run failed for app ${i}` : "Applied", i % 50 === 0 ? "False" : "True"),
          fm,
        );
      },
    );
    rows.push([`create ${objects} Kustomizations + status (setup)`, `${((Date.now() - t) / 1000).toFixed(1)} s`]);

    const port = await freePort();
    t = Date.now();
    server = spawn(
      process.execPath,
      [
        // As the image's entrypoint runs it (Dockerfile, dashboard target).
        "--max-semi-space-size=1",
        dashboardMain,
        "--insecure-local",
        `--listen-addr=127.0.0.1:${port}`,
        `--kubeconfig=${kubeconfig}`,
        "--kube-api-qps=0",
      ],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    const url = `http://127.0.0.1:${port}`;
    for (;;) {
      const ok = await fetch(`${url}/readyz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    rows.push(["server start → caches synced (/readyz)", `${Date.now() - t} ms`]);
    const pid = server.pid as number;

    // The measuring scripts are evaluated strings, which the dashboard's CSP (script-src 'self') would refuse.
    const newPage = () => browser.newPage({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
    const total = (
      n: number,
    ) => `(() => { const r = document.querySelector('tr[data-kind="Kustomization"]'); if (!r) return false;
      let s = 0; for (const td of r.querySelectorAll('td')) s += Number(td.textContent); return s === ${n}; })()`;
    const loadTimes = { overview: [] as number[], list: [] as number[] };
    let phases = { dcl: 0, snapshot: 0, now: 0 };
    rows.push(["load average (1 min) before the page loads", loadavg()[0]?.toFixed(1) ?? "?"]);
    for (let k = 0; k < loads; k++) {
      const p = await newPage();
      t = Date.now();
      await p.goto(url);
      await p.waitForFunction(total(objects), undefined, { timeout: 60_000, polling: "raf" });
      loadTimes.overview.push(Date.now() - t);
      // Where the time went, in the page's clock (0 = navigation start).
      phases = (await p.evaluate(`(() => {
        const nav = performance.getEntriesByType("navigation")[0];
        const snap = performance.getEntriesByName("capstan:snapshot")[0];
        const shown = performance.getEntriesByName("capstan:overview")[0];
        return { dcl: nav.domContentLoadedEventEnd, snapshot: snap ? snap.startTime : -1, now: shown ? shown.startTime : -1 };
      })()`)) as { dcl: number; snapshot: number; now: number };
      await p.context().close();
      const q = await newPage();
      t = Date.now();
      await q.goto(`${url}/#/apps`);
      await q.waitForFunction(
        `document.querySelectorAll('table[aria-label="Applications"] tbody tr[data-key]').length > 0 &&
         document.body.textContent.includes('${objects} of ${objects} applications')`,
        undefined,
        { timeout: 60_000, polling: "raf" },
      );
      loadTimes.list.push(Date.now() - t);
      await q.context().close();
    }
    const pcts = (xs: number[]) => `p50 ${pct(xs, 0.5)} ms, p99 ${pct(xs, 0.99)} ms (${xs.length} loads)`;
    rows.push([`overview interactive (${objects} counted, failing listed), fresh context`, pcts(loadTimes.overview)]);
    rows.push([
      "  page clock of the last: DOMContentLoaded / snapshot in the model / overview rendered",
      `${phases.dcl.toFixed(0)} / ${phases.snapshot.toFixed(0)} / ${phases.now.toFixed(0)} ms`,
    ]);
    rows.push([`list interactive (${objects} rows, windowed), fresh context`, pcts(loadTimes.list)]);
    rows.push(["load average (1 min) after the page loads", loadavg()[0]?.toFixed(1) ?? "?"]);
    const page = await newPage();
    await page.goto(`${url}/#/apps`);
    await page.waitForFunction(
      `document.body.textContent.includes('${objects} of ${objects} applications')`,
      undefined,
      {
        timeout: 60_000,
        polling: "raf",
      },
    );
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
      await client.applyStatus(ready(target, msg, k % 2 ? "True" : "False"), fm);
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
    await pool(burstIds, 32, (i) => client.applyStatus(ready(i, `burst ${i}`, "True"), fm));
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
  } finally {
    await browser.close();
    server?.kill("SIGTERM");
    client.close();
    await plane?.stop();
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log(`\n| ${"measure".padEnd(width)} | result |\n|${"-".repeat(width + 2)}|--------|`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(width)} | ${v} |`);
}

await main();
