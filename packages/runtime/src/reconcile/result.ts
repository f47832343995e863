// What a finished pass leaves on the object and asks of the queue: fluxcd source-controller's
// reconcile.ComputeReconcileResult, followed by the Ready summary.

import { Reasons } from "../apis/meta.js";
import type { Outcome } from "../queue/workers.js";
import type { ReconcileResultLabel } from "../telemetry/metrics.js";
import {
  getCondition,
  getConditions,
  markStalled,
  ReadyCondition,
  ReconcilingCondition,
  removeCondition,
  StalledCondition,
  setCondition,
  type WithConditions,
} from "./conditions.js";
import { describeError, isStalling, ReconcileError, WaitingError } from "./errors.js";
import { type ConditionPolicy, summarizeReady, withRuntimeConditions } from "./summarize.js";

export interface PassResult {
  /** What a step threw, if anything. */
  error?: unknown;
  /** Set when a step asked to stop and requeue. */
  requeueAfterMs?: number;
}

export interface Timing {
  /** Next run after success (already jittered). */
  intervalMs: number;
  /** Next run after a transient failure; undefined: exponential backoff. */
  retryIntervalMs: number | undefined;
  readyWhenEmpty: { reason: string; message: string };
}

export interface Finished {
  outcome: Outcome;
  metricsResult: ReconcileResultLabel;
  stalled: boolean;
}

export function finishPass(obj: WithConditions, policy: ConditionPolicy, pass: PassResult, timing: Timing): Finished {
  const { error } = pass;
  const generation = obj.metadata.generation ?? 0;
  const success = error === undefined && pass.requeueAfterMs === undefined;
  obj.status ??= {};
  const status = obj.status;
  if (error instanceof ReconcileError && error.condition !== undefined) markFailure(obj, policy, error);

  if (success) {
    removeCondition(obj, ReconcilingCondition);
    removeCondition(obj, StalledCondition);
    status.observedGeneration = generation;
  } else if (isStalling(error)) {
    // The generation has been handled: it cannot work. Reconciling would contradict Stalled for kstatus.
    removeCondition(obj, ReconcilingCondition);
    markStalled(obj, error.reason, error.message);
    status.observedGeneration = generation;
  } else {
    removeCondition(obj, StalledCondition);
    const reconciling = getCondition(obj, ReconcilingCondition);
    if (reconciling && error !== undefined && !(error instanceof WaitingError)) {
      setCondition(obj, { ...reconciling, reason: Reasons.ProgressingWithRetry });
    }
  }

  if (!summarizeReady(obj, policy) && error === undefined) {
    setCondition(obj, { type: ReadyCondition, status: "True", ...timing.readyWhenEmpty });
  }
  // An error that no step recorded in a condition must still make Ready False, with its own reason and message:
  // more useful than Reconciling's "processing object" when that is all the summary found.
  const ready = getCondition(obj, ReadyCondition);
  const fromReconciling = ready?.reason === getCondition(obj, ReconcilingCondition)?.reason;
  if (error !== undefined && (ready?.status !== "False" || fromReconciling)) {
    setCondition(obj, { type: ReadyCondition, status: "False", ...describeError(error) });
  }
  stampGeneration(obj, policy, generation);
  return decide(pass, timing);
}

/** The condition an error names: abnormal-true types become True, the others False. */
export function markFailure(obj: WithConditions, policy: ConditionPolicy, error: ReconcileError): void {
  if (error.condition === undefined) return;
  const negative = withRuntimeConditions(policy).negativePolarity.includes(error.condition);
  setCondition(obj, {
    type: error.condition,
    status: negative ? "True" : "False",
    reason: error.reason,
    message: error.message,
  });
}

/** Every owned condition was evaluated in this pass, so each carries the generation it describes. */
function stampGeneration(obj: WithConditions, policy: ConditionPolicy, generation: number): void {
  const owned = withRuntimeConditions(policy).owned;
  for (const c of getConditions(obj)) if (owned.includes(c.type)) c.observedGeneration = generation;
}

function decide(pass: PassResult, timing: Timing): Finished {
  const { error } = pass;
  if (isStalling(error)) return { outcome: { type: "done" }, metricsResult: "success", stalled: true };
  if (error instanceof WaitingError) {
    return { outcome: requeueAfter(error.requeueAfterMs), metricsResult: "requeue_after", stalled: false };
  }
  if (error !== undefined) {
    const outcome: Outcome =
      timing.retryIntervalMs === undefined ? { type: "retry" } : requeueAfter(timing.retryIntervalMs);
    return { outcome, metricsResult: "error", stalled: false };
  }
  if (pass.requeueAfterMs !== undefined) {
    return {
      outcome: requeueAfter(pass.requeueAfterMs),
      metricsResult: pass.requeueAfterMs > 0 ? "requeue_after" : "requeue",
      stalled: false,
    };
  }
  if (timing.intervalMs > 0) {
    return { outcome: requeueAfter(timing.intervalMs), metricsResult: "requeue_after", stalled: false };
  }
  return { outcome: { type: "done" }, metricsResult: "success", stalled: false };
}

function requeueAfter(delayMs: number): Outcome {
  return { type: "requeueAfter", delayMs: Math.max(0, delayMs) };
}
