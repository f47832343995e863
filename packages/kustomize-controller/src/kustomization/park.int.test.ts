// A reconcile waiting on health holds no worker (Capstan): with --concurrent=1, a second Kustomization is applied,
// checked and made Ready while the first still waits for its objects to become healthy. Before parking, the one
// worker sat in the first's health wait and the second was not even applied until the first finished.
import { describe, expect, it } from "vitest";
import { readyOf } from "../testing/harness.js";
import {
  configMap,
  getConfigMap,
  kubeconfig,
  ownSource,
  readyAt,
  scenario,
  untilKustomization,
} from "../testing/scenario.js";

// Healthy once the test adds data.ready: a key the manifests do not hold, so it is no drift the apply would undo.
const waitUntilMarked = {
  wait: true,
  timeout: "10m",
  healthCheckExprs: [{ apiVersion: "v1", kind: "ConfigMap", current: "has(data.ready)" }],
};

const parkedGauge = async (text: Promise<string>) =>
  Number(/^capstan_parked_reconciles\{controller="kustomization"\} (\d+)$/m.exec(await text)?.[1]);

describe("a Kustomization waiting on health, with --concurrent=1", () => {
  it("Given a first Kustomization that waits on health / should apply and finish a second one meanwhile, then finish the first when its objects are healthy", async () => {
    const { h } = await scenario(kubeconfig(), "ks-park", { flags: ["--concurrent=1"] });
    const markReady = (name: string) =>
      h.client.mergePatch(
        { apiVersion: "v1", kind: "ConfigMap", name, namespace: h.namespace },
        { data: { ready: "yes" } },
      );

    const first = await ownSource(h, "first", { "cm.yaml": configMap("first-cm", "1") }, waitUntilMarked);
    // Applied: the first reconcile is in (or about to be in) its health wait, which lasts until the test says.
    await untilConfigMap(h, "first-cm");
    await untilKustomization(h, "first", "health check running", (k) =>
      (k.status?.conditions ?? []).some((c) => c.type === "Reconciling" && /health/i.test(c.message ?? "")),
    );

    const second = await ownSource(h, "second", { "cm.yaml": configMap("second-cm", "2") }, waitUntilMarked);
    // The one worker is free: the second is applied although the first still waits.
    await untilConfigMap(h, "second-cm");
    await expect.poll(() => parkedGauge(h.manager.metrics.text()), { timeout: 30_000 }).toBe(2);

    await markReady("second-cm");
    await untilKustomization(h, "second", "ready", readyAt(second.revision), 60_000);
    expect(readyOf(await h.getKustomization("first"))?.status).not.toBe("True");

    await markReady("first-cm");
    const k = await untilKustomization(h, "first", "ready", readyAt(first.revision), 60_000);
    expect(k.status?.conditions?.find((c) => c.type === "Healthy")).toMatchObject({ status: "True" });
    await expect.poll(() => parkedGauge(h.manager.metrics.text())).toBe(0);
  });
});

async function untilConfigMap(h: Parameters<typeof getConfigMap>[0], name: string): Promise<void> {
  await expect.poll(async () => (await getConfigMap(h, name))?.metadata.name, { timeout: 30_000 }).toBe(name);
}
