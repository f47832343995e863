import { describe, expect, it } from "vitest";
import { healthOf, parseInventoryId } from "./health.js";
import type { Obj } from "./model.js";

const obj = (kind: string, rest: Partial<Obj> = {}): Obj => ({
  apiVersion: "v1",
  kind,
  metadata: { name: "x", namespace: "ns", generation: 2 },
  ...rest,
});

describe("healthOf", () => {
  it.each([
    [
      "a Deployment with every replica available",
      obj("Deployment", {
        spec: { replicas: 2 },
        status: { observedGeneration: 2, updatedReplicas: 2, availableReplicas: 2 },
      }),
      "Current",
    ],
    [
      "a Deployment still rolling out",
      obj("Deployment", {
        spec: { replicas: 2 },
        status: { observedGeneration: 2, updatedReplicas: 1, availableReplicas: 1 },
      }),
      "InProgress",
    ],
    [
      "a Deployment whose generation is not observed",
      obj("Deployment", {
        spec: { replicas: 1 },
        status: { observedGeneration: 1, updatedReplicas: 1, availableReplicas: 1 },
      }),
      "InProgress",
    ],
    [
      "a Deployment past its progress deadline",
      obj("Deployment", {
        spec: { replicas: 1 },
        status: {
          observedGeneration: 2,
          conditions: [
            { type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded", message: "timed out" },
          ],
        },
      }),
      "Failed",
    ],
    ["a failed Job", obj("Job", { status: { conditions: [{ type: "Failed", status: "True" }] } }), "Failed"],
    ["a ConfigMap", obj("ConfigMap"), "Current"],
    [
      "an object being deleted",
      obj("ConfigMap", { metadata: { name: "x", deletionTimestamp: "2026-01-01T00:00:00Z" } }),
      "Terminating",
    ],
    [
      "a custom resource not Ready",
      obj("Widget", { status: { conditions: [{ type: "Ready", status: "False", message: "waiting" }] } }),
      "InProgress",
    ],
    [
      "a custom resource Stalled",
      obj("Widget", { status: { conditions: [{ type: "Stalled", status: "True", message: "bad spec" }] } }),
      "Failed",
    ],
  ])("Given %s / should be %s", (_, o, want) => {
    expect(healthOf(o).health).toBe(want);
  });
});

describe("parseInventoryId", () => {
  it("should read Flux's ids, core group and RBAC names with a colon included", () => {
    expect(parseInventoryId("apps_web_apps_Deployment")).toEqual({
      namespace: "apps",
      name: "web",
      group: "apps",
      kind: "Deployment",
    });
    expect(parseInventoryId("apps_cfg__ConfigMap")).toEqual({
      namespace: "apps",
      name: "cfg",
      group: "",
      kind: "ConfigMap",
    });
    expect(parseInventoryId("_system__viewer_rbac.authorization.k8s.io_ClusterRole")).toEqual({
      namespace: "",
      name: "system:viewer",
      group: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
    });
    expect(parseInventoryId("garbage")).toBeUndefined();
  });
});
