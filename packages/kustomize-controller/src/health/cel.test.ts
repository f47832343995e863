import { describe, expect, it } from "vitest";
import type { KubeObject } from "../kube.js";
import { CelExprError, compileExprs, evaluateExprs, findExprs } from "./cel.js";

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

  it("Given an entry without kind, should cover every kind of its group at any version, after an entry naming the kind", () => {
    const all = compileExprs([
      { apiVersion: "example.com/v1", current: "status.groupWide == true" },
      { apiVersion: "example.com/v1", kind: "Gadget", current: "status.own == true" },
    ]);
    const obj = (apiVersion: string, kind: string, status: Record<string, unknown>): KubeObject => ({
      apiVersion,
      kind,
      metadata: { name: "x" },
      status,
    });
    const statusOf = (o: KubeObject) => {
      const e = findExprs(all, o);
      return e ? evaluateExprs(e, o).status : "none";
    };
    expect(statusOf(obj("example.com/v2", "Widget", { groupWide: true }))).toBe("Current");
    expect(statusOf(obj("example.com/v1", "Gadget", { groupWide: true, own: false }))).toBe("InProgress");
    expect(statusOf(obj("example.com/v1", "Gadget", { own: true }))).toBe("Current");
    expect(statusOf(obj("other.example.com/v1", "Widget", { groupWide: true }))).toBe("none");
  });

  it("Given two entries for one group and kind, should refuse them as Flux does", () => {
    expect(() =>
      compileExprs([
        { apiVersion: "example.com/v1", kind: "Widget", current: "true" },
        { apiVersion: "example.com/v2", kind: "Widget", current: "false" },
      ]),
    ).toThrow("duplicate custom health check for GroupKind Widget.example.com at healthchecks[1]");
  });

  it("Given an expression that does not parse, should fail at compile time naming it", () => {
    expect(() => compileExprs([{ apiVersion: "v1", kind: "X", current: "status.(" }])).toThrow(CelExprError);
  });
});
