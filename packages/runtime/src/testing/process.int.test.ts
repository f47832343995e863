import { eventually } from "@capstan/cluster/testing";
import { describe, expect, it } from "vitest";
import { getCondition } from "../reconcile/conditions.js";
import type { ControllerProcess } from "./process.js";
import { processSuite } from "./process-suite.js";
import { histogramCount, parsePrometheusText, sampleValue } from "./prometheus-text.js";
import type { Widget } from "./widget-crd.js";

describe("Widget controller as a process", () => {
  const suite = processSuite("widget-proc");
  const { start, create, ref } = suite;
  const ready = async (name: string) => {
    const w = await suite.client.get<Widget>(ref(name));
    return w && getCondition(w, "Ready")?.status === "True" && w.status?.observedGeneration === w.metadata.generation
      ? w
      : undefined;
  };

  it("Given SIGTERM during a reconcile, should finish it, patch its status and exit 0", async () => {
    const p: ControllerProcess = start();
    const { health } = await p.urls();
    await eventually(async () => (await fetch(`${health}/readyz`)).status === 200, { what: "readyz" });
    await create("slow", { message: "drained", sleepMs: 2000 });
    await p.waitForLog((l) => l.msg === "publishing widget" && l.name === "slow");
    p.child.kill("SIGTERM");
    expect(await p.exited).toEqual({ code: 0, signal: null });
    const w = await suite.client.get<Widget>(ref("slow"));
    expect(w?.status?.message).toBe("drained");
    expect(getCondition(w!, "Ready")?.status).toBe("True");
    expect(p.logs.some((l) => l.msg === "shutdown signal received, draining")).toBe(true);
    expect(p.logs.at(-1)?.msg).toBe("stopped");
  });

  it("Given reconciles, should serve /metrics as Prometheus text with Flux's and controller-runtime's series", async () => {
    const p = start(["--concurrent=3"]);
    // Both addresses are 127.0.0.1:0 here, so the manager serves them from one server.
    const { metrics } = await p.urls();
    await create("counted", { message: "m" });
    await eventually(() => ready("counted"), { what: "counted Ready" });
    const text = await eventually(async () => {
      const t = await (await fetch(`${metrics}/metrics`)).text();
      return t.includes('name="counted"') ? t : undefined;
    });
    const families = parsePrometheusText(text);
    const obj = { kind: "Widget", name: "counted", namespace: suite.ns.name };
    expect(sampleValue(families, "gotk_reconcile_condition", { ...obj, type: "Ready", status: "True" })).toBe(1);
    expect(histogramCount(text, "gotk_reconcile_duration_seconds", obj)).toBeGreaterThanOrEqual(1);
    expect(
      sampleValue(families, "controller_runtime_reconcile_total", { controller: "widget" }),
    ).toBeGreaterThanOrEqual(1);
    expect(sampleValue(families, "controller_runtime_reconcile_errors_total", { controller: "widget" })).toBe(0);
    expect(sampleValue(families, "controller_runtime_max_concurrent_reconciles", { controller: "widget" })).toBe(3);
    expect(
      sampleValue(families, "workqueue_adds_total", { name: "widget", controller: "widget" }),
    ).toBeGreaterThanOrEqual(1);
    expect(sampleValue(families, "workqueue_depth", { name: "widget" })).toBe(0);
    expect(histogramCount(text, "workqueue_work_duration_seconds", { name: "widget" })).toBeGreaterThanOrEqual(1);
    expect(families.find((f) => f.name === "process_resident_memory_bytes")?.type).toBe("GAUGE");
  });
});
