import { createTestNamespace, eventually, loadKubeConfig, testKubeconfigPath } from "@capstan/cluster/testing";
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from "vitest";
import { KubeClient } from "../client/kube-client.js";
import type { KubeObject, ObjectRef } from "../contracts.js";
import { getCondition } from "../reconcile/conditions.js";
import { type ControllerProcess, startControllerProcess } from "./process.js";
import { installWidgetCrd, type Widget } from "./widget-crd.js";

const apiVersion = "testing.capstan.dev/v1";

describe("Widget controller with --leader-elect, two processes", () => {
  let kubeconfig: string;
  let client: KubeClient;
  let ns: { name: string; delete(): Promise<void> };

  beforeAll(async () => {
    kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
    client = new KubeClient({ kubeconfigPath: kubeconfig });
    await installWidgetCrd(client);
    ns = await createTestNamespace(loadKubeConfig(kubeconfig), "widget-leader");
  });
  afterAll(async () => {
    await ns?.delete();
    client?.close();
  });

  const start = () => {
    const p = startControllerProcess([
      `--kubeconfig=${kubeconfig}`,
      "--health-addr=127.0.0.1:0",
      "--metrics-addr=127.0.0.1:0",
      "--watch-all-namespaces=false",
      `--namespace=${ns.name}`,
      "--leader-elect",
      "--leader-election-lease-duration=4s",
      "--leader-election-renew-deadline=3s",
      "--leader-election-retry-period=500ms",
    ]);
    onTestFinished(() => p.kill());
    return p;
  };
  const ref = (name: string): ObjectRef => ({ apiVersion, kind: "Widget", name, namespace: ns.name });
  const createAndWait = async (name: string) => {
    await client.create({
      apiVersion,
      kind: "Widget",
      metadata: { name, namespace: ns.name },
      spec: { message: name },
    } as KubeObject);
    return eventually(
      async () => {
        const w = await client.get<Widget>(ref(name));
        return w && getCondition(w, "Ready")?.status === "True" ? w : undefined;
      },
      { what: `${name} Ready` },
    );
  };
  const acquired = (p: ControllerProcess) => p.logs.some((l) => l.msg === "successfully acquired lease");
  const reconciled = (p: ControllerProcess, name: string) =>
    p.logs.some((l) => l.msg === "publishing widget" && l.name === name);

  it("Given two replicas, should elect one leader that alone reconciles, and fail over when it is SIGKILLed", async () => {
    const a = start();
    const b = start();
    const leader = await eventually(() => (acquired(a) ? a : acquired(b) ? b : undefined), { what: "a leader" });
    const standby = leader === a ? b : a;
    // Both replicas run informers and become ready; only the leader starts workers.
    for (const p of [a, b]) {
      const { health } = await p.urls();
      await eventually(async () => (await fetch(`${health}/readyz`)).status === 200, { what: `readyz of ${p.pid}` });
    }
    await createAndWait("first");
    expect(reconciled(leader, "first")).toBe(true);
    expect(reconciled(standby, "first")).toBe(false);
    expect(acquired(standby)).toBe(false);
    expect(standby.logs.some((l) => l.msg === "Starting workers")).toBe(false);

    const lease = await client.get<KubeObject & { spec: { holderIdentity?: string } }>({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      name: "widget-controller-leader-election",
      namespace: ns.name,
    });
    const leaderIdentity = leader.logs.find((l) => l.msg === "successfully acquired lease")?.identity;
    expect(lease?.spec.holderIdentity).toBe(leaderIdentity);

    leader.child.kill("SIGKILL");
    expect((await leader.exited).signal).toBe("SIGKILL");
    await eventually(() => acquired(standby), { what: "standby takes over", timeoutMs: 30_000 });
    await createAndWait("second");
    expect(reconciled(standby, "second")).toBe(true);
  });

  it("Given the leader is stopped with SIGTERM, should release the Lease so the standby takes over without waiting for expiry", async () => {
    const a = start();
    const leader = await eventually(() => (acquired(a) ? a : undefined), { what: "a leads alone" });
    const b = start();
    await b.waitForLog((l) => l.msg === "attempting to acquire leader lease");
    leader.child.kill("SIGTERM");
    expect(await leader.exited).toEqual({ code: 0, signal: null });
    const lease = await client.get<KubeObject & { spec: { holderIdentity?: string } }>({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      name: "widget-controller-leader-election",
      namespace: ns.name,
    });
    expect(lease?.spec.holderIdentity ?? "").not.toBe(
      leader.logs.find((l) => l.msg === "successfully acquired lease")?.identity,
    );
    await eventually(() => acquired(b), { what: "b takes over", timeoutMs: 30_000 });
  });
});
