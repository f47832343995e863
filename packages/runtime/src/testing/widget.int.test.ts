import { createTestNamespace, eventually, loadKubeConfig, testKubeconfigPath } from "@capstan/cluster/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { KubeObject, ObjectRef } from "../contracts.js";
import { getCondition } from "../reconcile/conditions.js";
import { type Harness, startWidgetController } from "./harness.js";
import { histogramCount, parsePrometheusText, sampleValue } from "./prometheus-text.js";
import { widgetLabel } from "./widget-controller.js";
import type { Widget, WidgetSpec } from "./widget-crd.js";

const apiVersion = "testing.capstan.dev/v1";

describe("Widget controller (in process, real kube-apiserver)", () => {
  let h: Harness;
  let ns: { name: string; delete(): Promise<void> };

  beforeAll(async () => {
    const path = testKubeconfigPath(inject("capstanKubeconfig"));
    ns = await createTestNamespace(loadKubeConfig(path), "widgets");
    h = await startWidgetController(path, ["--concurrent=4"], { watchNamespace: ns.name });
    await eventually(async () => (await fetch(`${h.manager.urls.health}/readyz`)).status === 200, { what: "readyz" });
  });
  afterAll(async () => {
    await h?.stop();
    await ns?.delete();
  });

  const ref = (name: string): ObjectRef => ({ apiVersion, kind: "Widget", name, namespace: ns.name });
  const key = (name: string) => `${ns.name}/${name}`;
  const get = async (name: string) => {
    const w = await h.client.get<Widget>(ref(name));
    if (!w) throw new Error(`widget ${name} not found`);
    return w;
  };
  const create = (name: string, spec: WidgetSpec, annotations?: Record<string, string>) =>
    h.client.create<Widget>({
      apiVersion,
      kind: "Widget",
      metadata: { name, namespace: ns.name, ...(annotations ? { annotations } : {}) },
      spec,
    } as KubeObject);
  const patchSpec = (name: string, spec: WidgetSpec) => h.client.mergePatch<Widget>(ref(name), { spec });
  const readyAt = async (name: string, generation?: number) => {
    const w = await get(name);
    const ready = getCondition(w, "Ready");
    const gen = generation ?? w.metadata.generation;
    return ready?.status === "True" && w.status?.observedGeneration === gen && ready.observedGeneration === gen
      ? w
      : undefined;
  };
  // Counted for the whole controller: the tests compare deltas while only one Widget changes.
  const statusApplies = () => h.requests.filter((r) => r.verb === "apply" && r.resource === "widgets/status").length;

  it("Given a new Widget, should add the finalizer, publish, and report Ready with observedGeneration everywhere", async () => {
    await create("basic", { message: "hello" });
    const w = await eventually(() => readyAt("basic"), { what: "basic Ready" });
    expect(w.metadata.finalizers).toContain("finalizers.fluxcd.io");
    expect(w.status?.message).toBe("hello");
    expect(getCondition(w, "Ready")).toMatchObject({ reason: "Succeeded", message: 'published message "hello"' });
    expect(getCondition(w, "Reconciling")).toBeUndefined();
    expect(getCondition(w, "Stalled")).toBeUndefined();
    for (const c of w.status?.conditions ?? []) expect(c.observedGeneration).toBe(w.metadata.generation);
    const managers = (w.metadata.managedFields as { manager: string; subresource?: string }[]).filter(
      (m) => m.subresource === "status",
    );
    expect(managers.map((m) => m.manager)).toEqual(["widget-controller"]);
  });

  it("Given reconcile.fluxcd.io/requestedAt, should echo it in lastHandledReconcileAt with one status patch, and none when nothing changed", async () => {
    await create("echo", { message: "x" });
    await eventually(() => readyAt("echo"), { what: "echo Ready" });
    const before = await get("echo");
    const appliesBefore = statusApplies();
    const reconcilesBefore = h.ledger.count(key("echo"));

    await h.client.mergePatch(ref("echo"), { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "t1" } } });
    const echoed = await eventually(async () => {
      const w = await get("echo");
      return w.status?.lastHandledReconcileAt === "t1" ? w : undefined;
    });
    expect(h.ledger.count(key("echo"))).toBe(reconcilesBefore + 1);
    expect(statusApplies()).toBe(appliesBefore + 1);
    expect(echoed.metadata.resourceVersion).not.toBe(before.metadata.resourceVersion);

    // Same annotation value again is no change; a new value whose reconcile leaves status equal is impossible, so
    // drive a reconcile that changes nothing through the interval instead.
    await patchSpec("echo", { message: "x", interval: "200ms" });
    await eventually(() => readyAt("echo"), { what: "echo at new generation" });
    const settled = await get("echo");
    const applies = statusApplies();
    const count = h.ledger.count(key("echo"));
    await eventually(() => h.ledger.count(key("echo")) >= count + 3, { what: "three interval requeues" });
    expect(statusApplies()).toBe(applies);
    expect((await get("echo")).metadata.resourceVersion).toBe(settled.metadata.resourceVersion);
    await h.client.mergePatch(ref("echo"), { spec: { interval: null } });
  });

  it("Given many concurrent updates of one Widget, should never run two reconciles of it at once and end on the last spec", async () => {
    await create("busy", { message: "m0", sleepMs: 30 });
    for (let i = 1; i <= 15; i++) {
      await patchSpec("busy", { message: `m${i}` });
      if (i % 4 === 0) await new Promise((r) => setTimeout(r, 20));
    }
    const last = (await get("busy")).metadata.generation;
    const w = await eventually(() => readyAt("busy", last), { what: "busy at last generation" });
    expect(w.status?.message).toBe("m15");
    expect(h.ledger.overlaps).toBe(0);
    // Adds that arrived while it was busy were merged: fewer reconciles than updates.
    expect(h.ledger.count(key("busy"))).toBeLessThanOrEqual(16);
  });

  it("Given a Widget that fails three times, should report the failure, back off, and recover to Ready", async () => {
    await create("flaky", { message: "ok", failTimes: 3 });
    const failing = await eventually(async () => {
      const w = await get("flaky");
      return getCondition(w, "Ready")?.reason === "SimulatedFailure" ? w : undefined;
    });
    expect(getCondition(failing, "Ready")).toMatchObject({
      status: "False",
      message: expect.stringMatching(/simulated failure/),
    });
    expect(getCondition(failing, "Reconciling")).toMatchObject({ status: "True", reason: "ProgressingWithRetry" });
    expect(failing.status?.observedGeneration).toBeUndefined();
    const w = await eventually(() => readyAt("flaky"), { what: "flaky recovered" });
    expect(w.status?.message).toBe("ok");
    expect(h.ledger.count(key("flaky"))).toBe(4);
    const eventType = await h.client.resourceFor("v1", "Event");
    const events = await eventually(async () => {
      const { items } = await h.client.list<KubeObject & { type: string; reason: string; message: string }>(eventType, {
        namespace: ns.name,
        fieldSelector: "involvedObject.name=flaky",
      });
      return items.some((e) => e.type === "Normal") ? items : undefined;
    });
    expect(events.find((e) => e.type === "Warning")).toMatchObject({ reason: "SimulatedFailure" });
    expect(events.find((e) => e.type === "Normal")).toMatchObject({
      reason: "Succeeded",
      message: 'published message "ok"',
    });
    const families = parsePrometheusText(await h.manager.metrics.text());
    expect(sampleValue(families, "workqueue_retries_total", { name: "widget" })).toBeGreaterThanOrEqual(3);
    expect(
      sampleValue(families, "controller_runtime_reconcile_errors_total", { controller: "widget" }),
    ).toBeGreaterThanOrEqual(3);
  });

  it("Given a Widget whose spec cannot work, should stall without retrying, then recover when the spec changes", async () => {
    await create("stuck", { message: "s", stall: true });
    const stalled = await eventually(async () => {
      const w = await get("stuck");
      return getCondition(w, "Stalled")?.status === "True" ? w : undefined;
    });
    expect(getCondition(stalled, "Ready")).toMatchObject({ status: "False", reason: "InvalidSpec" });
    expect(getCondition(stalled, "Reconciling")).toBeUndefined();
    expect(stalled.status?.observedGeneration).toBe(stalled.metadata.generation);
    const count = h.ledger.count(key("stuck"));
    await new Promise((r) => setTimeout(r, 1500)); // backoff would have retried several times by now (50ms base)
    expect(h.ledger.count(key("stuck"))).toBe(count);
    await patchSpec("stuck", { stall: false });
    const w = await eventually(() => readyAt("stuck"), { what: "stuck recovered" });
    expect(getCondition(w, "Stalled")).toBeUndefined();
  });

  it("Given a suspended Widget, should not reconcile its changes until resumed", async () => {
    await create("paused", { message: "v1", suspend: true });
    await eventually(async () => ((await get("paused")).metadata.finalizers?.length ? true : undefined));
    await patchSpec("paused", { message: "v2" });
    await new Promise((r) => setTimeout(r, 500));
    expect((await get("paused")).status?.message).toBeUndefined();
    expect(h.ledger.count(key("paused"))).toBe(0);
    await patchSpec("paused", { suspend: false });
    const w = await eventually(() => readyAt("paused"));
    expect(w.status?.message).toBe("v2");
  });

  it("Given a Widget waiting on a dependency, should requeue after its delay without counting a failure", async () => {
    const errorsBefore =
      sampleValue(parsePrometheusText(await h.manager.metrics.text()), "controller_runtime_reconcile_errors_total", {
        controller: "widget",
      }) ?? 0;
    await create("waiting", { message: "w", waitMs: 100 });
    await eventually(() => h.ledger.count(key("waiting")) >= 3, { what: "requeues while waiting" });
    const w = await get("waiting");
    expect(getCondition(w, "Ready")).toMatchObject({ status: "False", reason: "DependencyNotReady" });
    const text = await h.manager.metrics.text();
    expect(
      sampleValue(parsePrometheusText(text), "controller_runtime_reconcile_errors_total", { controller: "widget" }),
    ).toBe(errorsBefore);
    expect(
      histogramCount(text, "gotk_reconcile_duration_seconds", { kind: "Widget", name: "waiting", namespace: ns.name }),
    ).toBeGreaterThanOrEqual(3);
    // Waiting is logged at info with its reason, never as a "Reconciler error".
    const mine = h.logs.filter((l) => (l.Widget as { name?: string } | undefined)?.name === "waiting");
    expect(mine.some((l) => l.level === "info" && l.reason === "DependencyNotReady")).toBe(true);
    expect(mine.filter((l) => l.msg === "Reconciler error")).toEqual([]);
  });

  it("Given a deleted Widget, should run the finalizer and let it go, recording Deleted", async () => {
    await create("doomed", { message: "bye" });
    await eventually(() => readyAt("doomed"));
    await h.client.delete(ref("doomed"));
    await eventually(async () => ((await h.client.get(ref("doomed"))) === undefined ? true : undefined), {
      what: "doomed gone",
    });
    const labels = { kind: "Widget", name: "doomed", namespace: ns.name, type: "Ready" };
    // The object can be gone before the controller has handled the response to its finalizer patch.
    const families = await eventually(async () => {
      const f = parsePrometheusText(await h.manager.metrics.text());
      return sampleValue(f, "gotk_reconcile_condition", { ...labels, status: "Deleted" }) === 1 ? f : undefined;
    });
    expect(sampleValue(families, "gotk_reconcile_condition", { ...labels, status: "True" })).toBe(0);
  });

  it("Given a watched ConfigMap labelled for a Widget, should enqueue that Widget on its changes", async () => {
    await create("watcher", { message: "w" });
    await eventually(() => readyAt("watcher"));
    const count = h.ledger.count(key("watcher"));
    await h.client.create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "trigger", namespace: ns.name, labels: { [widgetLabel]: "watcher" } },
      data: { a: "1" },
    });
    await eventually(() => h.ledger.count(key("watcher")) === count + 1, { what: "reconcile on ConfigMap add" });
    await h.client.mergePatch(
      { apiVersion: "v1", kind: "ConfigMap", name: "trigger", namespace: ns.name },
      { data: { a: "2" } },
    );
    await eventually(() => h.ledger.count(key("watcher")) === count + 2, { what: "reconcile on ConfigMap update" });
    await h.client.create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "unrelated", namespace: ns.name },
      data: { a: "1" },
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(h.ledger.count(key("watcher"))).toBe(count + 2);
  });

  it("Given reconciles, should log them with Flux's fields and a reconcileID", () => {
    const line = h.logs.find((l) => l.msg === "reconcile finished" && l.name === "basic");
    expect(line).toMatchObject({
      level: "debug",
      controller: "widget",
      controllerGroup: "testing.capstan.dev",
      controllerKind: "Widget",
      Widget: { name: "basic", namespace: ns.name },
      namespace: ns.name,
      reconcileID: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(typeof line?.ts).toBe("string");
  });
});
