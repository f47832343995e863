import { afterEach, describe, expect, it } from "vitest";
import { WorkQueue } from "../queue/work-queue.js";
import { Metrics } from "../telemetry/metrics.js";
import { histogramCount, parsePrometheusText, sampleValue } from "../testing/prometheus-text.js";
import { parseListenAddress } from "./address.js";
import { HealthChecks } from "./health.js";
import { type RunningServer, serve } from "./http.js";
import { metricsRoute } from "./metrics.js";

const servers: RunningServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function start(routes: Parameters<typeof serve>[1]): Promise<RunningServer> {
  const s = await serve("127.0.0.1:0", routes);
  if (!s) throw new Error("server disabled");
  servers.push(s);
  return s;
}

describe("parseListenAddress", () => {
  it.each([
    [":8080", { host: undefined, port: 8080 }],
    ["127.0.0.1:9440", { host: "127.0.0.1", port: 9440 }],
    ["[::1]:0", { host: "::1", port: 0 }],
    ["0", undefined],
  ])("Given %s, should listen on %j", (addr, expected) => {
    expect(parseListenAddress(addr)).toEqual(expected);
  });

  it.each(["8080", "host", ":99999", ""])("Given %j, should throw", (addr) => {
    expect(() => parseListenAddress(addr)).toThrow(/invalid listen address/);
  });
});

describe("HealthChecks", () => {
  it("Given a readiness check that fails until caches sync, should answer /readyz 500 then 200 while /healthz stays 200", async () => {
    const health = new HealthChecks();
    let synced = false;
    health.addReadinessCheck("informers", () => (synced ? undefined : "caches not synced: widgets"));
    const s = await start(health.routes());
    const before = await fetch(`${s.url}/readyz`);
    expect(before.status).toBe(500);
    expect(await before.text()).toContain("[-]informers failed: caches not synced: widgets");
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    synced = true;
    const after = await fetch(`${s.url}/readyz`);
    expect(after.status).toBe(200);
    expect(await after.text()).toBe("ok");
    expect((await fetch(`${s.url}/nope`)).status).toBe(404);
  });
});

describe("/metrics", () => {
  it("Given reconciles and queue activity, should serve Prometheus text with Flux's and controller-runtime's series", async () => {
    const metrics = new Metrics();
    const q = new WorkQueue<string>({ metrics: metrics.queueMetrics("widget") });
    metrics.workers("widget", 4);
    q.add("ns/a");
    q.add("ns/b");
    const key = await q.get();
    q.done(key!);
    q.addRateLimited("ns/a");
    q.shutDown();
    metrics.recordReconcile("widget", "success", 0.2);
    metrics.recordReconcile("widget", "error", 0.1);
    metrics.recordDuration({ kind: "Widget", name: "a", namespace: "ns" }, 0.2);
    metrics.recordCondition({ kind: "Widget", name: "a", namespace: "ns" }, "Ready", "True");
    const s = await start({ "/metrics": metricsRoute(metrics) });
    const res = await fetch(`${s.url}/metrics`);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    const families = parsePrometheusText(text);
    const labels = { kind: "Widget", name: "a", namespace: "ns" };
    expect(histogramCount(text, "gotk_reconcile_duration_seconds", labels)).toBe(1);
    expect(sampleValue(families, "gotk_reconcile_condition", { ...labels, type: "Ready", status: "True" })).toBe(1);
    expect(sampleValue(families, "gotk_reconcile_condition", { ...labels, type: "Ready", status: "False" })).toBe(0);
    expect(
      sampleValue(families, "controller_runtime_reconcile_total", { controller: "widget", result: "success" }),
    ).toBe(1);
    expect(sampleValue(families, "controller_runtime_reconcile_errors_total", { controller: "widget" })).toBe(1);
    expect(sampleValue(families, "controller_runtime_max_concurrent_reconciles", { controller: "widget" })).toBe(4);
    expect(sampleValue(families, "workqueue_adds_total", { name: "widget" })).toBe(2);
    expect(sampleValue(families, "workqueue_depth", { name: "widget" })).toBe(1);
    expect(sampleValue(families, "workqueue_retries_total", { name: "widget" })).toBe(1);
    expect(histogramCount(text, "workqueue_queue_duration_seconds", { name: "widget" })).toBe(1);
    expect(histogramCount(text, "workqueue_work_duration_seconds", { name: "widget" })).toBe(1);
    expect(families.some((f) => f.name === "process_resident_memory_bytes")).toBe(true);
  });

  it("Given two Metrics objects in one process, should keep their series apart", async () => {
    const a = new Metrics({ defaultMetrics: false });
    const b = new Metrics({ defaultMetrics: false });
    a.recordReconcile("x", "success", 1);
    const fb = parsePrometheusText(await b.text());
    expect(sampleValue(fb, "controller_runtime_reconcile_total", { controller: "x" })).toBeUndefined();
  });
});
