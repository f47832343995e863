// Where a page load of the dashboard spends its time, in headless Chromium: one load traced (Chrome's trace events:
// network, the renderer's main thread, user timing marks), one load CPU-profiled (JS self time by function). Prints
// the load's milestones in the page's clock and the main thread's busy time by activity up to the overview rendered.
//   CAPSTAN_BENCH_KUBECONFIG=... pnpm --filter @capstan/bench bench:dashboard:profile [-- --objects=5000 --page=/ --trace=t.json]
// The page is watched by one small polling script (loads.ts), not Playwright's waitForFunction, whose injected
// script would show in the trace. Uses the cluster given (populating it once, as the benchmark does) or starts its own control plane.
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { Fixtures, fixtureFlags } from "./fixtures.js";
import { newPage, timeLoad } from "./loads.js";
import { dashboardMain, withBench } from "./setup.js";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: {
    ...fixtureFlags,
    /** The route loaded: "/" (overview) or "/#/apps" (list). */
    page: { type: "string", default: "/" },
    /** Also write the raw trace (open it in Chrome's performance panel). */
    trace: { type: "string" },
    loads: { type: "string", default: "3" },
    /** Another build's dist/server/main.js to profile. */
    main: { type: "string" },
  },
});
const objects = Number(values.objects);

interface TraceEvent {
  name: string;
  cat: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: { name?: string; data?: Record<string, unknown> };
}

const categories = [
  "toplevel",
  "devtools.timeline",
  "disabled-by-default-devtools.timeline",
  "blink.user_timing",
  "v8.execute",
  "v8",
  "loading",
  "netlog",
].join(",");

/** The milestones of one load and the main thread's busy time by event name (self time), in ms. */
function summarise(events: TraceEvent[], origin: string): { milestones: [string, number][]; busy: [string, number][] } {
  const threads = events.filter((e) => e.ph === "M" && e.name === "thread_name" && e.args?.name === "CrRendererMain");
  // The renderer of the dashboard's page: the one whose main thread set the app's marks.
  const marks = events.filter((e) => e.cat.includes("blink.user_timing") && e.name.startsWith("capstan:"));
  const main = threads.find((t) => marks.some((m) => m.pid === t.pid)) ?? threads[0];
  if (!main) throw new Error("no renderer main thread in the trace");
  const nav = events.find(
    (e) => e.name === "navigationStart" && e.pid === main.pid && String(e.args?.data?.documentLoaderURL ?? "") !== "",
  );
  const t0 = nav?.ts ?? Math.min(...events.filter((e) => e.pid === main.pid && e.ts > 0).map((e) => e.ts));
  const at = (ts: number) => (ts - t0) / 1000;
  const milestones = milestonesOf(events, main, origin, at);
  for (const m of marks) if (m.ph === "R" || m.ph === "I" || m.ph === "b") milestones.push([m.name, at(m.ts)]);
  milestones.sort((a, b) => a[1] - b[1]);
  const end = Math.max(
    ...marks.filter((m) => m.name === "capstan:overview" || m.name === "capstan:list").map((m) => m.ts),
    t0,
  );

  // Self time per event name on the main thread, from navigation to the page rendered (nesting by time ranges).
  const onMain = events
    .filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === "X" && e.dur !== undefined)
    .filter((e) => e.ts >= t0 && e.ts <= end)
    .sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
  const self = new Map<string, number>();
  const stack: { e: TraceEvent; end: number; child: number }[] = [];
  const pop = () => {
    const top = stack.pop();
    if (!top) return;
    self.set(top.e.name, (self.get(top.e.name) ?? 0) + (top.e.dur ?? 0) - top.child);
    const parent = stack[stack.length - 1];
    if (parent) parent.child += top.e.dur ?? 0;
  };
  for (const e of onMain) {
    while (stack.length && (stack[stack.length - 1] as { end: number }).end <= e.ts) pop();
    stack.push({ e, end: e.ts + (e.dur ?? 0), child: 0 });
  }
  while (stack.length) pop();
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const busy: [string, number][] = [...self.entries()]
    .map(([k, v]) => [k, v / 1000] as [string, number])
    .sort((a, b) => b[1] - a[1])
    .slice(0, 18);
  busy.unshift([`main thread busy (of ${at(end).toFixed(0)} ms to rendered)`, total / 1000]);
  return { milestones, busy };
}

/** Requests to the dashboard, the stream's data, script evaluation and the snapshot's handler, in the page's clock. */
function milestonesOf(
  events: TraceEvent[],
  main: TraceEvent,
  origin: string,
  at: (ts: number) => number,
): [string, number][] {
  const milestones: [string, number][] = [];
  const requests = new Map<string, string>();
  for (const e of events) {
    const d = e.args?.data ?? {};
    const id = String(d.requestId ?? "");
    if (e.name === "ResourceSendRequest" && String(d.url).startsWith(origin)) {
      const url = new URL(String(d.url)).pathname.replace(/-[\w]{8}\.(js|css)$/, ".$1");
      requests.set(id, url);
      milestones.push([`request ${url}`, at(e.ts)]);
    } else if (e.name === "ResourceReceiveResponse" && requests.has(id)) {
      milestones.push([`  response ${requests.get(id)}`, at(e.ts)]);
    } else if (e.name === "ResourceReceivedData" && requests.get(id) === "/api/stream") {
      milestones.push([`  data ${requests.get(id)} (${d.encodedDataLength} B)`, at(e.ts)]);
    } else if (e.name === "ResourceFinish" && requests.has(id)) {
      milestones.push([`  finished ${requests.get(id)}`, at(e.ts)]);
    } else if (e.pid === main.pid && e.tid === main.tid) {
      const m = mainThreadMilestone(e);
      if (m) milestones.push([m, at(e.ts)]);
    }
  }
  return milestones;
}

function mainThreadMilestone(e: TraceEvent): string | undefined {
  const type = e.args?.data?.type;
  if (e.name === "EvaluateScript" || e.name === "v8.evaluateModule") return e.name;
  if (e.name === "EventDispatch" && (type === "snapshot" || type === "items" || type === "snapshot-end")) {
    return `${type} handler (${((e.dur ?? 0) / 1000).toFixed(1)} ms)`;
  }
  if (e.name === "firstContentfulPaint") return "first contentful paint";
  return undefined;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** JS self time by function (ms), from a CDP CPU profile. */
function selfTimes(profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }): [string, number][] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const n = byId.get(id);
    if (!n) return;
    const f = n.callFrame;
    const where = f.url ? `${f.url.replace(/^.*\//, "")}:${f.lineNumber + 1}` : "";
    const key = `${f.functionName || "(anonymous)"} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25);
}

async function main(): Promise<void> {
  await withBench(async ({ browser, populate, startDashboard }) => {
    // Every object put back as it was: which ones the last benchmark run changed is not known here.
    await populate(new Fixtures(objects, Number(values.namespaces)), objects);
    const dashboard = await startDashboard(values.main ? resolve(values.main) : dashboardMain);
    const url = dashboard.url;
    const target = `${url}${values.page}`;
    const rendered = values.page.includes("apps") ? "capstan:list" : "capstan:overview";
    const waitRendered = `performance.getEntriesByName(${JSON.stringify(rendered)}).length > 0`;

    // A warm-up load: the server's first snapshot and Chromium's first start are not what a user waits for.
    for (let k = 0; k < Number(values.loads); k++) {
      const p = await newPage(browser);
      await timeLoad(p, target, { rendered: waitRendered });
      await p.context().close();
    }

    console.log(`load average (1 min): ${loadavg()[0]?.toFixed(1)}`);
    const traced = await newPage(browser);
    await browser.startTracing(traced, { categories: categories.split(",") });
    await timeLoad(traced, target, { rendered: waitRendered });
    await new Promise((r) => setTimeout(r, 200));
    const raw = await browser.stopTracing();
    await traced.context().close();
    if (values.trace) writeFileSync(values.trace, raw);
    const { traceEvents } = JSON.parse(raw.toString()) as { traceEvents: TraceEvent[] };
    const { milestones, busy } = summarise(traceEvents, url);
    console.log(`\n${target}: milestones (ms from navigation start)`);
    for (const [k, v] of milestones) console.log(`${v.toFixed(1).padStart(8)}  ${k}`);
    console.log("\nmain thread, self time by activity (ms)");
    for (const [k, v] of busy) console.log(`${v.toFixed(1).padStart(8)}  ${k}`);

    const profiled = await newPage(browser);
    const cdp = await profiled.context().newCDPSession(profiled);
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
    await cdp.send("Profiler.start");
    await timeLoad(profiled, target, { rendered: waitRendered });
    const { profile } = (await cdp.send("Profiler.stop")) as unknown as {
      profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
    };
    await profiled.context().close();
    console.log("\nJS self time by function (ms), another load");
    for (const [k, v] of selfTimes(profile)) console.log(`${v.toFixed(1).padStart(8)}  ${k}`);
    console.log(`load average (1 min): ${loadavg()[0]?.toFixed(1)}`);
  });
}

await main();
