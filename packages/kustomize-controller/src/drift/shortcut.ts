// A cheap no-op interval (a Capstan addition). Flux dry-runs every object at every interval to find drift; with the
// drift watch running, that work repeats what the watch already knows. The apply is skipped when all of these hold:
// - the last full apply of this Kustomization (same uid) succeeded, with the same generation, the same
//   reconcile request annotation, and built exactly the same objects (digest of the rendered set);
// - the watch sees every object of the set carrying this Kustomization's owner labels (ownsAll): an object that
//   another Kustomization applied since is not as this one applied it;
// - every kind of the set was watched, synced, by the same informers since before that apply started (token);
// - no drift event arrived for the Kustomization since that apply started (seq);
// - fewer than `fullEvery - 1` applies were skipped in a row: every fullEvery-th reconcile dry-runs everything
//   anyway, as a safety net for what a metadata watch cannot see.
// Anything else, a remote cluster (spec.kubeConfig) included, takes the full path.
import type { DriftView } from "./watcher.js";

export interface ApplyFacts {
  uid: string;
  generation: number;
  requestedAt: string | undefined;
  /** Digest of the rendered objects. */
  digest: string;
  /** Group/Kinds of the rendered objects. */
  kinds: readonly string[];
  /** Inventory ids of the rendered objects. */
  ids: readonly string[];
}

export interface Ticket {
  seq: number;
  token: string | undefined;
}

interface Record extends Omit<ApplyFacts, "kinds" | "ids"> {
  seq: number;
  token: string;
  skipped: number;
}

export class ApplyShortcut {
  private readonly records = new Map<string, Record>();

  constructor(
    private readonly view: DriftView,
    /** Every fullEvery-th reconcile of an unchanged set dry-runs all objects. */
    private readonly fullEvery = 10,
  ) {}

  /** Whether this reconcile may skip the apply; counts the skip when it may. */
  trySkip(key: string, facts: ApplyFacts): boolean {
    const r = this.records.get(key);
    if (!r || this.fullEvery <= 1) return false;
    const same =
      r.uid === facts.uid &&
      r.generation === facts.generation &&
      r.requestedAt === facts.requestedAt &&
      r.digest === facts.digest &&
      r.seq === this.view.seq(key) &&
      r.token === this.view.token(facts.kinds) &&
      r.skipped < this.fullEvery - 1 &&
      this.view.ownsAll(key, facts.ids);
    if (same) r.skipped++;
    return same;
  }

  /** Taken before a full apply starts: what the watch had seen and covered by then. */
  begin(key: string, kinds: readonly string[]): Ticket {
    this.records.delete(key);
    return { seq: this.view.seq(key), token: this.view.token(kinds) };
  }

  /** After a full apply succeeded. */
  commit(key: string, ticket: Ticket, facts: ApplyFacts): void {
    if (ticket.token === undefined) return;
    const { kinds: _kinds, ids: _ids, ...rest } = facts;
    this.records.set(key, { ...rest, seq: ticket.seq, token: ticket.token, skipped: 0 });
  }

  forget(key: string): void {
    this.records.delete(key);
  }
}
