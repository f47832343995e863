import { eventually } from "@capstan/cluster/testing";
import { describe, expect, it, onTestFinished } from "vitest";
import type { KubeObject } from "../contracts.js";
import { useClusterScope } from "../testing/cluster-scope.js";
import { type LeaderElectionOptions, LeaderElector } from "./elector.js";
import type { LeaseSpec } from "./lease-record.js";

describe("LeaderElector against a real kube-apiserver", () => {
  const cluster = useClusterScope("leader");

  // Short durations keep the test quick; their ratios are those of the defaults.
  const fast = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 400 };
  const candidate = (leaseName: string, identity: string, extra: Partial<LeaderElectionOptions> = {}) => {
    const events: string[] = [];
    const elector = new LeaderElector(cluster.client, {
      leaseName,
      namespace: cluster.ns.name,
      identity,
      ...fast,
      onStartedLeading: () => events.push("started"),
      onStoppedLeading: () => events.push("stopped"),
      ...extra,
    });
    onTestFinished(() => elector.stop({ release: false }));
    return { elector, events };
  };
  const lease = async (name: string) =>
    (await cluster.client.get<KubeObject & { spec: LeaseSpec }>({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      name,
      namespace: cluster.ns.name,
    }))!.spec;

  it("Given two candidates, exactly one should lead, and the other should take over once the first dies without releasing", async () => {
    const a = candidate("two", "a");
    const b = candidate("two", "b");
    a.elector.start();
    b.elector.start();
    await Promise.race([a.elector.leading(), b.elector.leading()]);
    // Sample through more than a lease duration: never two leaders, the leader named in the Lease.
    for (let i = 0; i < 20; i++) {
      expect([a, b].filter((c) => c.elector.isLeader())).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 200));
    }
    const [leader, follower] = a.elector.isLeader() ? [a, b] : [b, a];
    expect((await lease("two")).holderIdentity).toBe(leader.elector.identity);
    expect(follower.elector.leader()).toBe(leader.elector.identity);

    await leader.elector.stop({ release: false });
    expect((await lease("two")).holderIdentity).toBe(leader.elector.identity);
    await eventually(() => follower.elector.isLeader(), { what: "failover", timeoutMs: 3 * fast.leaseDurationMs });
    const spec = await lease("two");
    expect(spec.holderIdentity).toBe(follower.elector.identity);
    expect(spec.leaseTransitions).toBe(1);
    expect(leader.events).toEqual(["started", "stopped"]);
    expect(follower.events).toEqual(["started"]);
  });

  it("Given a leader that releases on stop, a waiting candidate should take over long before the lease would expire", async () => {
    // A long lease: without the release, the successor would wait a minute.
    const slow = { leaseDurationMs: 60_000, renewDeadlineMs: 2_000, retryPeriodMs: 400 };
    const a = candidate("release", "a", slow);
    a.elector.start();
    await a.elector.leading();
    const b = candidate("release", "b", slow);
    b.elector.start();
    await new Promise((r) => setTimeout(r, 1_000));
    expect(b.elector.isLeader()).toBe(false);

    await a.elector.stop();
    expect((await lease("release")).holderIdentity ?? "").toBe("");
    await eventually(() => b.elector.isLeader(), { what: "takeover after release", timeoutMs: 10_000 });
    expect(a.events).toEqual(["started", "stopped"]);
  });

  it("Given a leader whose lease is taken from it, should stop leading once it cannot renew within the deadline", async () => {
    const a = candidate("stolen", "a");
    a.elector.start();
    await a.elector.leading();
    const current = await cluster.client.get({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      name: "stolen",
      namespace: cluster.ns.name,
    });
    // An intruder with a long lease: every renewal by "a" now finds the lease held by someone else.
    await cluster.client.mergePatch(
      { apiVersion: "coordination.k8s.io/v1", kind: "Lease", name: "stolen", namespace: cluster.ns.name },
      {
        metadata: { resourceVersion: current!.metadata.resourceVersion },
        spec: { holderIdentity: "intruder", leaseDurationSeconds: 600 },
      },
    );
    await a.elector.done();
    expect(a.elector.isLeader()).toBe(false);
    expect(a.events).toEqual(["started", "stopped"]);
    expect((await lease("stolen")).holderIdentity).toBe("intruder");
  });
});
