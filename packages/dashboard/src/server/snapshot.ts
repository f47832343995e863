// The first snapshot of a stream, split so that the first message holds what the first screen shows and the page can
// render it before it has read thousands of rows: the counts of everything, what needs attention first in line, the
// first applications in the list's order, the controllers, the latest Events. The rest follows in chunks.
import { byStateThenKey } from "../shared/order.js";
import {
  applicationKinds,
  type EventView,
  type State,
  type StateCounts,
  type Summary,
  type SummaryKind,
} from "../shared/types.js";

/** Failing or stalled objects in the first message: as many as the overview lists. */
export const headAttention = 100;
/** Applications in the first message: more than a screen of the list. */
export const headApplications = 100;
/** Events in the first message: as many as the overview's recent activity shows. */
export const headEvents = 25;
/** Summaries per later message. */
export const chunkSize = 1000;
/** Up to this many objects, the whole snapshot is one message. */
export const oneMessageUpTo = 500;

/** Where a snapshot is split (the constants above by default; tests make them small). */
export interface SplitLimits {
  headAttention: number;
  headApplications: number;
  headEvents: number;
  chunkSize: number;
  oneMessageUpTo: number;
}

export const defaultLimits: SplitLimits = { headAttention, headApplications, headEvents, chunkSize, oneMessageUpTo };

export interface SplitSnapshot {
  counts: StateCounts;
  head: Summary[];
  headEvents: EventView[];
  /** The other summaries, in order, in chunks; empty when the head is everything. */
  rest: Summary[][];
  restEvents: EventView[];
}

export function countStates(items: readonly Summary[]): StateCounts {
  const counts: StateCounts = {};
  for (const s of items) {
    let c = counts[s.kind];
    if (!c) {
      c = { ready: 0, failing: 0, stalled: 0, reconciling: 0, suspended: 0, unknown: 0 };
      counts[s.kind] = c;
    }
    c[s.state as State]++;
  }
  return counts;
}

const needsAttention = (s: Summary) => s.state === "failing" || s.state === "stalled";
const isApplication = (kind: SummaryKind) => applicationKinds.includes(kind);

/** Splits what a user may see (any order; Events newest first) into the first message and the rest. */
export function splitSnapshot(
  items: Summary[],
  events: EventView[],
  limits: SplitLimits = defaultLimits,
): SplitSnapshot {
  const sorted = [...items].sort(byStateThenKey);
  const counts = countStates(sorted);
  if (sorted.length <= limits.oneMessageUpTo) {
    return { counts, head: sorted, headEvents: events, rest: [], restEvents: [] };
  }
  const head: Summary[] = [];
  const others: Summary[] = [];
  let attention = 0;
  let apps = 0;
  for (const s of sorted) {
    let first = s.kind === "Deployment";
    if (needsAttention(s) && attention < limits.headAttention) {
      attention++;
      first = true;
    }
    if (isApplication(s.kind) && apps < limits.headApplications) {
      apps++;
      first = true;
    }
    (first ? head : others).push(s);
  }
  const rest: Summary[][] = [];
  for (let i = 0; i < others.length; i += limits.chunkSize) rest.push(others.slice(i, i + limits.chunkSize));
  const n = limits.headEvents;
  return { counts, head, headEvents: events.slice(0, n), rest, restEvents: events.slice(n) };
}
