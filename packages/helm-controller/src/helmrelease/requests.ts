// Flux's one-off requests on a HelmRelease, honoured when their annotation carries the same value as
// reconcile.fluxcd.io/requestedAt (what `flux reconcile helmrelease --force|--reset` sets) and a value not acted on
// before: reconcile.fluxcd.io/forceAt forces one install or upgrade (even in sync, even out of retries);
// reconcile.fluxcd.io/resetAt resets the failure counters, so the remediation retries start again.
import { Annotations } from "@capstan/runtime";
import type { HelmReleaseObject } from "./types.js";

export const ForceRequestAnnotation = Annotations.ForceRequest;
export const ResetRequestAnnotation = "reconcile.fluxcd.io/resetAt";

function handle(
  obj: HelmReleaseObject,
  annotation: string,
  field: "lastHandledForceAt" | "lastHandledResetAt",
): boolean {
  const annotations = obj.metadata.annotations ?? {};
  const requested = annotations[Annotations.ReconcileRequest];
  const value = annotations[annotation];
  if (value === undefined || requested !== value) return false;
  obj.status ??= {};
  if (obj.status[field] === value) return false;
  obj.status[field] = value;
  return true;
}

/** True once per new forceAt value (recorded in status.lastHandledForceAt). */
export const shouldHandleForceRequest = (obj: HelmReleaseObject) =>
  handle(obj, ForceRequestAnnotation, "lastHandledForceAt");

/** True once per new resetAt value (recorded in status.lastHandledResetAt). */
export const shouldHandleResetRequest = (obj: HelmReleaseObject) =>
  handle(obj, ResetRequestAnnotation, "lastHandledResetAt");
