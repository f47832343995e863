// The apply options kustomize-controller passes to the engine: Flux's annotations and cleanup rules.
import { disabledValue, enabledValue, KustomizeAnnotations } from "@capstan/api";
import { defaultCleanup } from "./cleanup.js";
import type { IgnoreRule } from "./diff.js";
import type { ApplyOptions } from "./engine.js";

const { Reconcile, SSA, Force, Prune } = KustomizeAnnotations;

export function kustomizeApplyOptions(
  fieldManager: string,
  spec: { force?: boolean; ignore?: IgnoreRule[]; timeoutMs?: number },
): ApplyOptions {
  return {
    force: spec.force ?? false,
    exclusionSelector: { [Reconcile]: disabledValue, [SSA]: "Ignore" },
    ifNotPresentSelector: { [SSA]: "IfNotPresent" },
    forceSelector: { [Force]: enabledValue },
    cleanup: { ...defaultCleanup(fieldManager), exclusions: { [SSA]: "Merge" } },
    ignore: spec.ignore ?? [],
    waitTimeoutMs: spec.timeoutMs ?? 60_000,
  };
}

/** What prune and the finalizer never delete. */
export const pruneExclusions = { [Prune]: disabledValue, [Reconcile]: disabledValue };
