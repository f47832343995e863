import { describe, expect, it } from "vitest";
import {
  type Condition,
  getCondition,
  markFalse,
  markReconciling,
  markTrue,
  setCondition,
  type WithConditions,
} from "./conditions.js";
import { StallingError, WaitingError } from "./errors.js";
import { finishPass, type Timing } from "./result.js";
import { type ConditionPolicy, summarizeReady } from "./summarize.js";

const policy: ConditionPolicy = {
  owned: ["FetchFailed", "ArtifactInStorage"],
  summarize: ["FetchFailed", "ArtifactInStorage"],
  negativePolarity: ["FetchFailed"],
};
const timing: Timing = {
  intervalMs: 60_000,
  retryIntervalMs: undefined,
  readyWhenEmpty: { reason: "Succeeded", message: "Reconciliation succeeded" },
};

function object(generation = 3, conditions: Condition[] = [], observedGeneration?: number): WithConditions {
  return {
    apiVersion: "testing.capstan.dev/v1",
    kind: "Widget",
    metadata: { name: "w", namespace: "ns", generation },
    status: { conditions, ...(observedGeneration === undefined ? {} : { observedGeneration }) },
  };
}

const brief = (obj: WithConditions, type: string) => {
  const c = getCondition(obj, type);
  return c && { status: c.status, reason: c.reason, message: c.message, observedGeneration: c.observedGeneration };
};

describe("setCondition", () => {
  it("Given a condition set again with the same status, should keep lastTransitionTime and update reason", () => {
    const obj = object();
    setCondition(obj, { type: "Ready", status: "True", reason: "A", message: "a" }, new Date("2024-01-01T00:00:00Z"));
    setCondition(obj, { type: "Ready", status: "True", reason: "B", message: "b" }, new Date("2024-02-01T00:00:00Z"));
    expect(getCondition(obj, "Ready")).toMatchObject({ reason: "B", lastTransitionTime: "2024-01-01T00:00:00Z" });
    setCondition(obj, { type: "Ready", status: "False", reason: "C", message: "c" }, new Date("2024-03-01T00:00:00Z"));
    expect(getCondition(obj, "Ready")).toMatchObject({ status: "False", lastTransitionTime: "2024-03-01T00:00:00Z" });
    expect(getCondition(obj, "Ready")?.observedGeneration).toBe(3);
  });
});

describe("summarizeReady", () => {
  it.each<[string, (o: WithConditions) => void, ReturnType<typeof brief>]>([
    [
      "an abnormal-true condition",
      (o) => {
        markTrue(o, "FetchFailed", "GitOperationFailed", "clone failed");
        markTrue(o, "ArtifactInStorage", "Succeeded", "stored");
      },
      { status: "False", reason: "GitOperationFailed", message: "clone failed", observedGeneration: 3 },
    ],
    [
      "only normal-true conditions",
      (o) => markTrue(o, "ArtifactInStorage", "Succeeded", "stored artifact"),
      { status: "True", reason: "Succeeded", message: "stored artifact", observedGeneration: 3 },
    ],
    [
      "a normal-false condition and Reconciling",
      (o) => {
        markFalse(o, "ArtifactInStorage", "NoArtifact", "no artifact yet");
        markReconciling(o, "Progressing", "working");
      },
      // Reconciling (P0, abnormal True) outranks a normal False (P1).
      { status: "False", reason: "Progressing", message: "working", observedGeneration: 3 },
    ],
  ])("Given %s, should summarize Ready as expected", (_name, arrange, expected) => {
    const obj = object();
    arrange(obj);
    expect(summarizeReady(obj, policy)).toBe(true);
    expect(brief(obj, "Ready")).toEqual(expected);
  });

  it("Given no summarized condition, should leave Ready alone", () => {
    const obj = object();
    expect(summarizeReady(obj, policy)).toBe(false);
    expect(getCondition(obj, "Ready")).toBeUndefined();
  });
});

describe("finishPass", () => {
  it("Given a successful pass of a new generation, should drop Reconciling and Stalled, set observedGeneration and requeue after the interval", () => {
    const obj = object(3, [], 2);
    markReconciling(obj, "Progressing", "new generation");
    markTrue(obj, "Stalled", "InvalidSpec", "old");
    markTrue(obj, "ArtifactInStorage", "Succeeded", "stored");
    const r = finishPass(obj, policy, {}, timing);
    expect(r.outcome).toEqual({ type: "requeueAfter", delayMs: 60_000 });
    expect(obj.status?.observedGeneration).toBe(3);
    expect(getCondition(obj, "Reconciling")).toBeUndefined();
    expect(getCondition(obj, "Stalled")).toBeUndefined();
    expect(brief(obj, "Ready")).toMatchObject({ status: "True", reason: "Succeeded" });
  });

  it("Given a StallingError, should set Stalled=True, Ready=False with its reason, observedGeneration, and not requeue", () => {
    const obj = object(5, [], 4);
    markReconciling(obj, "Progressing", "new generation");
    const r = finishPass(
      obj,
      policy,
      { error: new StallingError("spec.url: unsupported scheme ftp", { reason: "InvalidURL" }) },
      timing,
    );
    expect(r).toMatchObject({ outcome: { type: "done" }, stalled: true });
    expect(obj.status?.observedGeneration).toBe(5);
    expect(getCondition(obj, "Reconciling")).toBeUndefined();
    expect(brief(obj, "Stalled")).toMatchObject({ status: "True", reason: "InvalidURL" });
    expect(brief(obj, "Ready")).toEqual({
      status: "False",
      reason: "InvalidURL",
      message: "spec.url: unsupported scheme ftp",
      observedGeneration: 5,
    });
  });

  it("Given a WaitingError, should requeue after its delay with Ready=False and keep observedGeneration", () => {
    const obj = object(2, [], 1);
    const err = new WaitingError("dependency 'ns/infra' is not ready", {
      reason: "DependencyNotReady",
      requeueAfterMs: 30_000,
    });
    const r = finishPass(obj, policy, { error: err }, timing);
    expect(r.outcome).toEqual({ type: "requeueAfter", delayMs: 30_000 });
    expect(r.metricsResult).toBe("requeue_after");
    expect(obj.status?.observedGeneration).toBe(1);
    expect(brief(obj, "Ready")).toMatchObject({ status: "False", reason: "DependencyNotReady" });
  });

  it.each([
    [undefined, { type: "retry" }],
    [15_000, { type: "requeueAfter", delayMs: 15_000 }],
  ])(
    "Given a transient error and retryInterval %s, should ask for %j and mark Reconciling ProgressingWithRetry",
    (retry, outcome) => {
      const obj = object(2, [], 1);
      markReconciling(obj, "Progressing", "new generation");
      const r = finishPass(
        obj,
        policy,
        { error: new Error("connection refused") },
        { ...timing, retryIntervalMs: retry },
      );
      expect(r.outcome).toEqual(outcome);
      expect(r.metricsResult).toBe("error");
      expect(brief(obj, "Reconciling")).toMatchObject({ status: "True", reason: "ProgressingWithRetry" });
      expect(obj.status?.observedGeneration).toBe(1);
      // No step recorded the error in a condition, so Ready says it rather than Reconciling's message.
      expect(brief(obj, "Ready")).toMatchObject({
        status: "False",
        reason: "ReconciliationFailed",
        message: "connection refused",
      });
    },
  );

  it("Given a transient error that no step recorded and otherwise-true conditions, should still make Ready False with the error", () => {
    const obj = object(1, [], 1);
    markTrue(obj, "ArtifactInStorage", "Succeeded", "stored");
    finishPass(obj, policy, { error: new Error("apply failed: timeout") }, timing);
    expect(brief(obj, "Ready")).toMatchObject({
      status: "False",
      reason: "ReconciliationFailed",
      message: "apply failed: timeout",
    });
  });
});
