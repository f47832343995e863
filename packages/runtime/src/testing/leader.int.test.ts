import { eventually } from "@capstan/cluster/testing";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../contracts.js";
import { getCondition } from "../reconcile/conditions.js";
import type { ControllerProcess } from "./process.js";
import { processSuite } from "./process-suite.js";
import type { Widget } from "./widget-crd.js";

// Every wait here is on a state or a log line, with deadlines long enough for a loaded 2-core machine; the lease
// timings only bound how fast a failover may happen, never how fast the test must be.
const slow = { timeoutMs: 90_000 };

describe("Widget controller with --leader-elect, two processes", () => {
  const suite = processSuite("widget-leader");
  const start = () =>
    suite.start([
      "--leader-elect",
      "--leader-election-lease-duration=4s",
      "--leader-election-renew-deadline=3s",
      "--leader-election-retry-period=500ms",
    ]);
  const createAndWait = async (name: string) => {
    await suite.create(name, { message: name });
    return eventually(
      async () => {
        const w = await suite.client.get<Widget>(suite.ref(name));
        return w && getCondition(w, "Ready")?.status === "True" ? w : undefined;
      },
      { what: `${name} Ready`, ...slow },
    );
  };
  const acquired = (p: ControllerProcess) => p.logs.some((l) => l.msg === "successfully acquired lease");
  const reconciled = (p: ControllerProcess, name: string) =>
    p.logs.some((l) => l.msg === "publishing widget" && l.name === name);

  it("Given two replicas, should elect one leader that alone reconciles, and fail over when it is SIGKILLed", async () => {
    const a = start();
    const b = start();
    const leader = await eventually(() => (acquired(a) ? a : acquired(b) ? b : undefined), {
      what: "a leader",
      ...slow,
    });
    const standby = leader === a ? b : a;
    // Both replicas run informers and become ready; only the leader starts workers.
    for (const p of [a, b]) {
      const { health } = await p.urls();
      await eventually(async () => (await fetch(`${health}/readyz`)).status === 200, {
        what: `readyz of ${p.pid}`,
        ...slow,
      });
    }
    await createAndWait("first");
    expect(reconciled(leader, "first")).toBe(true);
    expect(reconciled(standby, "first")).toBe(false);
    expect(acquired(standby)).toBe(false);
    expect(standby.logs.some((l) => l.msg === "Starting workers")).toBe(false);

    const lease = await suite.client.get<KubeObject & { spec: { holderIdentity?: string } }>({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      name: "widget-controller-leader-election",
      namespace: suite.ns.name,
    });
    const leaderIdentity = leader.logs.find((l) => l.msg === "successfully acquired lease")?.identity;
    expect(lease?.spec.holderIdentity).toBe(leaderIdentity);

    leader.child.kill("SIGKILL");
    expect((await leader.exited).signal).toBe("SIGKILL");
    await eventually(() => acquired(standby), { what: "standby takes over", ...slow });
    await createAndWait("second");
    expect(reconciled(standby, "second")).toBe(true);
  }, 300_000);

  it("Given the leader is stopped with SIGTERM, should release the Lease so the standby takes over without waiting for expiry", async () => {
    const a = start();
    const leader = await eventually(() => (acquired(a) ? a : undefined), { what: "a leads alone", ...slow });
    const b = start();
    await b.waitForLog((l) => l.msg === "attempting to acquire leader lease", slow.timeoutMs);
    leader.child.kill("SIGTERM");
    expect(await leader.exited).toEqual({ code: 0, signal: null });
    const lease = await suite.client.get<KubeObject & { spec: { holderIdentity?: string } }>({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      name: "widget-controller-leader-election",
      namespace: suite.ns.name,
    });
    expect(lease?.spec.holderIdentity ?? "").not.toBe(
      leader.logs.find((l) => l.msg === "successfully acquired lease")?.identity,
    );
    await eventually(() => acquired(b), { what: "b takes over", ...slow });
  }, 300_000);
});
