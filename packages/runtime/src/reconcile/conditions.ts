// metav1.Condition bookkeeping on any object with status.conditions, as fluxcd/pkg/runtime/conditions does it:
// setting a condition stamps the object's generation on it, and lastTransitionTime moves only when status changes.
import { Conditions } from "../apis/meta.js";
import type { KubeObject } from "../contracts.js";

export type ConditionStatus = "True" | "False" | "Unknown";

export interface Condition {
  type: string;
  status: ConditionStatus;
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** Moved to apis/meta.ts; re-exported for the modules that import it from here. */
export { Reasons } from "../apis/meta.js";

export const ReadyCondition = Conditions.Ready;
export const ReconcilingCondition = Conditions.Reconciling;
export const StalledCondition = Conditions.Stalled;

/** An object that may carry status.conditions. */
export type WithConditions = KubeObject & { status?: { conditions?: Condition[]; [field: string]: unknown } };

export function getConditions(obj: WithConditions): Condition[] {
  return obj.status?.conditions ?? [];
}

export function getCondition(obj: WithConditions, type: string): Condition | undefined {
  return getConditions(obj).find((c) => c.type === type);
}

export function hasCondition(obj: WithConditions, type: string): boolean {
  return getCondition(obj, type) !== undefined;
}

export function isTrue(obj: WithConditions, type: string): boolean {
  return getCondition(obj, type)?.status === "True";
}

export function isFalse(obj: WithConditions, type: string): boolean {
  return getCondition(obj, type)?.status === "False";
}

export function isReady(obj: WithConditions): boolean {
  return isTrue(obj, ReadyCondition);
}

export function isStalled(obj: WithConditions): boolean {
  return isTrue(obj, StalledCondition);
}

export function isReconciling(obj: WithConditions): boolean {
  return isTrue(obj, ReconcilingCondition);
}

/**
 * Sets a condition, stamping metadata.generation as its observedGeneration. When a condition of that type exists with
 * the same status, its lastTransitionTime is kept; otherwise it becomes `now`.
 */
export function setCondition(
  obj: WithConditions,
  condition: Omit<Condition, "lastTransitionTime" | "observedGeneration"> & { lastTransitionTime?: string },
  now: Date = new Date(),
): void {
  obj.status ??= {};
  obj.status.conditions ??= [];
  const conditions = obj.status.conditions;
  const existing = conditions.find((c) => c.type === condition.type);
  const next: Condition = {
    type: condition.type,
    status: condition.status,
    observedGeneration: obj.metadata.generation ?? 0,
    lastTransitionTime:
      existing && existing.status === condition.status
        ? existing.lastTransitionTime
        : (condition.lastTransitionTime ?? rfc3339(now)),
    reason: condition.reason,
    message: condition.message,
  };
  if (existing) conditions[conditions.indexOf(existing)] = next;
  else conditions.push(next);
}

export function markTrue(obj: WithConditions, type: string, reason: string, message: string): void {
  setCondition(obj, { type, status: "True", reason, message });
}

export function markFalse(obj: WithConditions, type: string, reason: string, message: string): void {
  setCondition(obj, { type, status: "False", reason, message });
}

export function markUnknown(obj: WithConditions, type: string, reason: string, message: string): void {
  setCondition(obj, { type, status: "Unknown", reason, message });
}

/** Reconciling=True: work is in progress (abnormal-true, so kstatus reports InProgress). */
export function markReconciling(obj: WithConditions, reason: string, message: string): void {
  markTrue(obj, ReconcilingCondition, reason, message);
}

/** Stalled=True: a retry cannot help until the spec changes (kstatus reports Failed). */
export function markStalled(obj: WithConditions, reason: string, message: string): void {
  markTrue(obj, StalledCondition, reason, message);
}

export function removeCondition(obj: WithConditions, type: string): void {
  const conditions = obj.status?.conditions;
  if (!conditions) return;
  const kept = conditions.filter((c) => c.type !== type);
  if (kept.length !== conditions.length) obj.status!.conditions = kept;
}

/** Kubernetes timestamps have second precision (metav1.Time marshals as RFC 3339 without fractions). */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}
