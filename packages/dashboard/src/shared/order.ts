// The order the pages list objects in, shared by both halves: the server sends the first snapshot in this order (so
// the first message can hold exactly what the first screen shows, and the page's sort of already sorted rows is
// linear), and the pages sort by it. Names, namespaces and kinds are ASCII (Kubernetes names), so comparing code
// units orders them as localeCompare would, at a fraction of its cost with thousands of rows.
import type { State, Summary } from "./types.js";

/** Failing and stalled first, then in progress, suspended, unknown, ready. */
export const stateRank: Record<State, number> = {
  stalled: 0,
  failing: 1,
  reconciling: 2,
  suspended: 3,
  unknown: 4,
  ready: 5,
};

/** Compares strings by code unit (not locale): -1, 0 or 1. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What needs attention first (state rank), then by key (kind, namespace, name). */
export function byStateThenKey(a: Summary, b: Summary): number {
  return stateRank[a.state] - stateRank[b.state] || compareText(a.key, b.key);
}
