// The apply options kustomize-controller passes to the engine: Flux's annotations and cleanup rules.
import { defaultCleanup } from "./cleanup.js";
import type { IgnoreRule } from "./diff.js";
import type { ApplyOptions } from "./engine.js";

export const group = "kustomize.toolkit.fluxcd.io";
export const reconcileAnnotation = `${group}/reconcile`;
export const ssaAnnotation = `${group}/ssa`;
export const forceAnnotation = `${group}/force`;
export const pruneAnnotation = `${group}/prune`;

export function kustomizeApplyOptions(
  fieldManager: string,
  spec: { force?: boolean; ignore?: IgnoreRule[]; timeoutMs?: number },
): ApplyOptions {
  return {
    force: spec.force ?? false,
    exclusionSelector: { [reconcileAnnotation]: "disabled", [ssaAnnotation]: "Ignore" },
    ifNotPresentSelector: { [ssaAnnotation]: "IfNotPresent" },
    forceSelector: { [forceAnnotation]: "enabled" },
    cleanup: { ...defaultCleanup(fieldManager), exclusions: { [ssaAnnotation]: "Merge" } },
    ignore: spec.ignore ?? [],
    waitTimeoutMs: spec.timeoutMs ?? 60_000,
  };
}

/** What prune and the finalizer never delete. */
export const pruneExclusions = { [pruneAnnotation]: "disabled", [reconcileAnnotation]: "disabled" };
