// bench/peer's cluster figures: the Deployments' timeline from their own timestamps, and the apiserver's request
// counters between two reads.
import { describe, expect, it } from "vitest";
import {
  type BenchEvent,
  deploymentTimeline,
  eventSummary,
  requestCounts,
  requestFigures,
  type TimedDeployment,
} from "../peer/cluster.js";

const start = Date.parse("2026-12-03T08:00:00Z");

function deployment(
  name: string,
  fields: { manager: string; operation: string; time: string; subresource?: string }[],
  progressing?: { reason: string; lastUpdateTime: string },
): TimedDeployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "apps", managedFields: fields },
    status: { conditions: progressing ? [{ type: "Progressing", ...progressing }] : [] },
  };
}

describe("deploymentTimeline", () => {
  it("takes applied from the controllers' Apply entries and completion from Progressing", () => {
    const t = deploymentTimeline(
      [
        deployment(
          "a",
          [
            { manager: "kustomize-controller", operation: "Apply", time: "2026-12-03T08:00:03Z" },
            // kube-controller-manager's status writes are Update on the status subresource: not an apply.
            {
              manager: "kube-controller-manager",
              operation: "Update",
              time: "2026-12-03T08:00:30Z",
              subresource: "status",
            },
          ],
          { reason: "NewReplicaSetAvailable", lastUpdateTime: "2026-12-03T08:00:09Z" },
        ),
        deployment(
          "b",
          [
            { manager: "kustomize-controller", operation: "Apply", time: "2026-12-03T08:00:02Z" },
            // The newest apply counts (the upgrade's, not the creation's).
            { manager: "kustomize-controller", operation: "Apply", time: "2026-12-03T08:00:07Z" },
          ],
          { reason: "NewReplicaSetAvailable", lastUpdateTime: "2026-12-03T08:00:21Z" },
        ),
      ],
      start,
    );
    expect(t).toEqual({ count: 2, firstApplied: 3, lastApplied: 7, lastComplete: 21, incomplete: 0 });
  });

  it("counts a Deployment still rolling out as incomplete, not as done", () => {
    const t = deploymentTimeline(
      [
        deployment("a", [{ manager: "m", operation: "Apply", time: "2026-12-03T08:00:01Z" }], {
          reason: "ReplicaSetUpdated",
          lastUpdateTime: "2026-12-03T08:00:50Z",
        }),
        deployment("b", [{ manager: "m", operation: "Apply", time: "2026-12-03T08:00:01Z" }]),
      ],
      start,
    );
    expect(t.incomplete).toBe(2);
    expect(t.lastComplete).toBeNaN();
    expect(t.firstApplied).toBe(1);
  });

  it("gives NaN, not infinities, for no Deployments", () => {
    const t = deploymentTimeline([], start);
    expect([t.count, t.firstApplied, t.lastApplied, t.lastComplete]).toEqual([0, Number.NaN, Number.NaN, Number.NaN]);
  });
});

describe("requestCounts and requestFigures", () => {
  const metrics = (rsPost: number, depStatus: number, apply: number, list: number) =>
    [
      "# HELP apiserver_request_total [STABLE] Counter of apiserver requests",
      "# TYPE apiserver_request_total counter",
      `apiserver_request_total{code="201",component="apiserver",dry_run="",group="apps",resource="replicasets",scope="resource",subresource="",verb="POST",version="v1"} ${rsPost}`,
      `apiserver_request_total{code="200",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="status",verb="PUT",version="v1"} ${depStatus}`,
      // Two series (codes) of one verb and path add up.
      `apiserver_request_total{code="409",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="status",verb="PUT",version="v1"} 1`,
      `apiserver_request_total{code="200",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="",verb="APPLY",version="v1"} ${apply}`,
      `apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="namespace",subresource="",verb="LIST",version="v1"} ${list}`,
      `apiserver_request_total{code="0",component="apiserver",dry_run="",group="",resource="pods",scope="namespace",subresource="",verb="WATCH",version="v1"} 9`,
      'apiserver_request_duration_seconds_count{verb="GET"} 1000',
    ].join("\n");

  it("parses the counters by verb and path", () => {
    const c = requestCounts(metrics(10, 20, 30, 40));
    expect(c.get("POST apps/replicasets")).toBe(10);
    expect(c.get("PUT apps/deployments/status")).toBe(21);
    expect(c.get("LIST core/pods")).toBe(40);
    expect(c.get("WATCH core/pods")).toBe(9);
  });

  it("counts what was served between two reads: writes, reads and the rollouts' writes", () => {
    const f = requestFigures(requestCounts(metrics(10, 20, 30, 40)), requestCounts(metrics(110, 320, 130, 45)));
    // 100 ReplicaSets created + 300 Deployment status writes by kube-controller-manager; 100 applies by a controller.
    expect(f).toEqual({ writes: 500, reads: 5, rolloutWrites: 400 });
  });
});

describe("eventSummary", () => {
  it("groups the Events touched since the start by component and reason, counting occurrences", () => {
    const ev = (component: string, reason: string, last: string, count?: number): BenchEvent => ({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: `${reason}-${last}`, namespace: "apps" },
      reason,
      source: { component },
      lastTimestamp: last,
      ...(count ? { count } : {}),
    });
    const s = eventSummary(
      [
        ev("kustomize-controller", "Progressing", "2026-12-03T08:00:01Z"),
        ev("kustomize-controller", "Progressing", "2026-12-03T08:00:05Z", 3),
        ev("source-controller", "NewArtifact", "2026-12-03T08:00:00Z"),
        // Before the apply: left out.
        ev("source-controller", "NewArtifact", "2026-12-03T07:59:58Z"),
      ],
      start + 400,
    );
    expect(s).toEqual([
      ["kustomize-controller Progressing", 2, 4],
      ["source-controller NewArtifact", 1, 1],
    ]);
  });
});
