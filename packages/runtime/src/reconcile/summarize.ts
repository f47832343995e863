// Summarizes a reconciler's conditions into Ready the way fluxcd/pkg/runtime/conditions.SetSummary does, so that
// kstatus (and so `flux`, `kubectl wait`) reads the object the same as a Flux one.
import {
  type Condition,
  type ConditionStatus,
  getCondition,
  ReadyCondition,
  ReconcilingCondition,
  StalledCondition,
  setCondition,
  type WithConditions,
} from "./conditions.js";

export interface ConditionPolicy {
  /** Condition types the reconciler owns (Ready, Reconciling and Stalled are always owned). */
  owned: readonly string[];
  /** Condition types that make up Ready, highest priority first (Stalled and Reconciling are appended last). */
  summarize: readonly string[];
  /** Abnormal-true types among them ("FetchFailed"); Stalled and Reconciling are always negative. */
  negativePolarity: readonly string[];
}

interface Group {
  status: ConditionStatus;
  negative: boolean;
  conditions: Condition[];
}

/** P0 abnormal True, P1 normal False, P2 normal True, P3 abnormal False, P4 Unknown. */
function priority(g: Group): number {
  if (g.status === "True") return g.negative ? 0 : 2;
  if (g.status === "False") return g.negative ? 3 : 1;
  return 4;
}

export function withRuntimeConditions(policy: ConditionPolicy): ConditionPolicy {
  const add = (list: readonly string[], extra: string[]) => [...list, ...extra.filter((t) => !list.includes(t))];
  return {
    owned: add(policy.owned, [ReadyCondition, ReconcilingCondition, StalledCondition]),
    summarize: add(policy.summarize, [StalledCondition, ReconcilingCondition]),
    negativePolarity: add(policy.negativePolarity, [StalledCondition, ReconcilingCondition]),
  };
}

/**
 * Sets Ready from the summarized conditions present on the object. Returns false (leaving Ready alone) when none of
 * them is present.
 */
export function summarizeReady(obj: WithConditions, policy: ConditionPolicy): boolean {
  const full = withRuntimeConditions(policy);
  const groups: Group[] = [];
  for (const type of full.summarize) {
    const c = getCondition(obj, type);
    if (!c) continue;
    const negative = full.negativePolarity.includes(type);
    let group = groups.find((g) => g.status === c.status && g.negative === negative);
    if (!group) {
      group = { status: c.status, negative, conditions: [] };
      groups.push(group);
    }
    group.conditions.push(c); // in summarize order, so the first is the highest priority
  }
  groups.sort((a, b) => priority(a) - priority(b));
  const top = groups[0];
  const first = top?.conditions[0];
  if (!top || !first) return false;
  // Ready is positive: an abnormal condition that is True makes it False, and the other way round.
  let status: ConditionStatus = top.status;
  if (top.negative && status !== "Unknown") status = status === "True" ? "False" : "True";
  setCondition(obj, { type: ReadyCondition, status, reason: first.reason, message: first.message });
  return true;
}
