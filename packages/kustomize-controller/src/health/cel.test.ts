import { describe, expect, it } from "vitest";
import type { KubeObject } from "../kube.js";
import { CelExprError, compileExprs, evaluateExprs } from "./cel.js";

const widget = (status: Record<string, unknown>): KubeObject => ({
  apiVersion: "example.com/v1",
  kind: "Widget",
  metadata: { name: "w", namespace: "n", generation: 2 },
  spec: { replicas: 3 },
  status,
});

const [exprs] = compileExprs([
  {
    apiVersion: "example.com/v1",
    kind: "Widget",
    inProgress: "has(status.observedGeneration) && status.observedGeneration != metadata.generation",
    failed: "status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'False' && e.reason == 'Broken')",
    current:
      "status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True') && status.ready == spec.replicas",
  },
]);

describe("healthCheckExprs", () => {
  it.each([
    [
      "Ready and replicas match",
      { observedGeneration: 2, ready: 3, conditions: [{ type: "Ready", status: "True" }] },
      "Current",
    ],
    [
      "unobserved generation",
      { observedGeneration: 1, ready: 3, conditions: [{ type: "Ready", status: "True" }] },
      "InProgress",
    ],
    ["broken", { observedGeneration: 2, conditions: [{ type: "Ready", status: "False", reason: "Broken" }] }, "Failed"],
    [
      "Ready but short of replicas",
      { observedGeneration: 2, ready: 1, conditions: [{ type: "Ready", status: "True" }] },
      "InProgress",
    ],
    ["no conditions field (evaluation error)", { observedGeneration: 2 }, "InProgress"],
  ])("Given %s, should be %s", (_what, status, expected) => {
    expect(evaluateExprs(exprs!, widget(status)).status).toBe(expected);
  });

  it("Given an expression that does not parse, should fail at compile time naming it", () => {
    expect(() => compileExprs([{ apiVersion: "v1", kind: "X", current: "status.(" }])).toThrow(CelExprError);
  });
});
