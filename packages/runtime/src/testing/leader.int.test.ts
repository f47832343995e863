import { eventually } from "@capstan/cluster/testing";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../contracts.js";
import { getCondition } from "../reconcile/conditions.js";
import type { ControllerProcess } from "./process.js";
import { processSuite } from "./process-suite.js";
import type { Widget } from "./widget-crd.js";

// Every wait here is on a state (the Lease's holder, a Widget's status) or on a log line, never on a clock. The lease
// timings are long enough that a leader on a loaded 2-core machine never misses its renewals (it would step down and
// the test would be watching a leader that no longer is); they only bound how long the SIGKILL failover takes, which
// is the lease duration plus one retry period, well inside the deadlines.
const slow = { timeoutMs: 120_000 };
const leaseName = "widget-controller-leader-election";

describe("Widget controller with --leader-elect, two processes", () => {
  const suite = processSuite("widget-leader");
  const start = () =>
    suite.start([
      "--leader-elect",
      "--leader-election-lease-duration=15s",
      "--leader-election-renew-deadline=10s",
      "--leader-election-retry-period=1s",
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
  /** The identity a process campaigns with (logged before it first tries the Lease). */
  const identityOf = (p: ControllerProcess) =>
    p.logs.find((l) => l.msg === "attempting to acquire leader lease")?.identity as string | undefined;
  const holder = async () =>
    (
      await suite.client.get<KubeObject & { spec: { holderIdentity?: string } }>({
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        name: leaseName,
        namespace: suite.ns.name,
      })
    )?.spec.holderIdentity;
  /** The process the Lease names as its holder, once it has also started its workers. */
  const leaderAmong = async (...ps: ControllerProcess[]) => {
    const id = await holder();
    return ps.find((p) => id !== undefined && identityOf(p) === id && acquired(p));
  };
  const reconciled = (p: ControllerProcess, name: string) =>
    p.logs.some((l) => l.msg === "publishing widget" && l.name === name);

  it("Given two replicas, should elect one leader that alone reconciles, and fail over when it is SIGKILLed", async () => {
    const a = start();
    const b = start();
    const leader = await eventually(() => leaderAmong(a, b), { what: "a leader", ...slow });
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

    expect(await holder()).toBe(identityOf(leader));

    leader.child.kill("SIGKILL");
    expect((await leader.exited).signal).toBe("SIGKILL");
    // No release: the standby takes the Lease once it expires, and only then starts its workers.
    await eventually(() => leaderAmong(standby), { what: "standby takes over", ...slow });
    await createAndWait("second");
    expect(reconciled(standby, "second")).toBe(true);
  }, 300_000);

  it("Given the leader is stopped with SIGTERM, should release the Lease so the standby takes over without waiting for expiry", async () => {
    const a = start();
    const leader = await eventually(() => leaderAmong(a), { what: "a leads alone", ...slow });
    const b = start();
    await b.waitForLog((l) => l.msg === "attempting to acquire leader lease", slow.timeoutMs);
    leader.child.kill("SIGTERM");
    expect(await leader.exited).toEqual({ code: 0, signal: null });
    // Released on the way out: the Lease no longer names the old leader, whatever b has done yet.
    expect(await holder()).not.toBe(identityOf(leader));
    // b takes over at its next retry (1 s), long before the 15 s lease would have expired; the test waits for the
    // state, and the expiry path is the first test's.
    await eventually(() => leaderAmong(b), { what: "b takes over", ...slow });
  }, 300_000);
});
