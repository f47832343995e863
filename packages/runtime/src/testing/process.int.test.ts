import { createTestNamespace, eventually, loadKubeConfig, testKubeconfigPath } from "@capstan/cluster/testing";
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from "vitest";
import { KubeClient } from "../client/kube-client.js";
import type { KubeObject, ObjectRef } from "../contracts.js";
import { getCondition } from "../reconcile/conditions.js";
import { type ControllerProcess, startControllerProcess } from "./process.js";
import { histogramCount, parsePrometheusText, sampleValue } from "./prometheus-text.js";
import { installWidgetCrd, type Widget } from "./widget-crd.js";

const apiVersion = "testing.capstan.dev/v1";

describe("Widget controller as a process", () => {
  let kubeconfig: string;
  let client: KubeClient;
  let ns: { name: string; delete(): Promise<void> };

  beforeAll(async () => {
    kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
    client = new KubeClient({ kubeconfigPath: kubeconfig });
    await installWidgetCrd(client);
    ns = await createTestNamespace(loadKubeConfig(kubeconfig), "widget-proc");
  });
  afterAll(async () => {
    await ns?.delete();
    client?.close();
  });

  const ref = (name: string): ObjectRef => ({ apiVersion, kind: "Widget", name, namespace: ns.name });
  const start = (extra: string[] = []) => {
    const p = startControllerProcess([
      `--kubeconfig=${kubeconfig}`,
      "--health-addr=127.0.0.1:0",
      "--metrics-addr=127.0.0.1:0",
      "--watch-all-namespaces=false",
      `--namespace=${ns.name}`,
      ...extra,
    ]);
    onTestFinished(() => p.kill());
    return p;
  };
  const create = (name: string, spec: Widget["spec"]) =>
    client.create({ apiVersion, kind: "Widget", metadata: { name, namespace: ns.name }, spec } as KubeObject);
  const ready = async (name: string) => {
    const w = await client.get<Widget>(ref(name));
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
    const w = await client.get<Widget>(ref("slow"));
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
    const obj = { kind: "Widget", name: "counted", namespace: ns.name };
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
