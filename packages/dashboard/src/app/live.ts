// The live model in the browser: one EventSource; a snapshot, then batches of changes. Components read from it and
// re-render when its version moves. No polling: the server pushes.
//
// With thousands of objects the snapshot comes in parts (server/snapshot.ts): the first message holds the counts and
// what the first screen shows, and the page renders it at once; the other parts are read afterwards, each in a task
// of its own after that first render has been painted, so the page is interactive while they load. Changes that
// arrive meanwhile wait their turn behind them.
import type {
  ChangeBatch,
  EventView,
  Snapshot,
  SnapshotEnd,
  SnapshotItems,
  State,
  StateCounts,
  Summary,
} from "../shared/types.js";
import { unpackSummaries } from "../shared/wire.js";

export type Connection = "connecting" | "live" | "reconnecting" | "unauthorized";

const emptyCounts = (): Record<State, number> => ({
  ready: 0,
  failing: 0,
  stalled: 0,
  reconciling: 0,
  suspended: 0,
  unknown: 0,
});

/** Runs `fn` in a task after the next frame is painted (or after 50 ms where frames are not drawn, in a hidden tab). */
function afterPaint(fn: () => void): void {
  let done = false;
  const run = () => {
    if (done) return;
    done = true;
    fn();
  };
  requestAnimationFrame(() => setTimeout(run, 0));
  setTimeout(run, 50);
}

export class LiveModel {
  readonly items = new Map<string, Summary>();
  readonly events = new Map<string, EventView>();
  /** Objects per kind and state: the server's until the snapshot is complete, then kept here. */
  counts: StateCounts = {};
  /** Whether every object of the snapshot is in `items` (false while the parts after the first are read). */
  complete = false;
  version = 0;
  connection: Connection = "connecting";
  private source: EventSource | undefined;
  private readonly listeners = new Set<() => void>();
  private scheduled = false;
  /** Messages waiting behind the snapshot's first part (emptied when a new snapshot replaces the model). */
  private readonly queue: (() => void)[] = [];
  private draining = false;

  connect(): void {
    this.source?.close();
    const es = new EventSource("/api/stream");
    this.source = es;
    // Marks for the benchmark's and profiler's breakdown of a page load (and the browser's performance panel).
    es.addEventListener("open", () => performance.mark("capstan:stream-open"));
    es.addEventListener("snapshot", (m) => {
      performance.mark("capstan:snapshot-received");
      const s = JSON.parse((m as MessageEvent<string>).data) as Snapshot;
      this.queue.length = 0;
      this.items.clear();
      this.events.clear();
      for (const i of unpackSummaries(s.items)) this.items.set(i.key, i);
      for (const e of s.events) this.events.set(e.key, e);
      this.counts = s.counts;
      this.complete = !s.more;
      this.connection = "live";
      this.changed();
      // For the benchmark (and the browser's performance panel): when the first part was in the model.
      performance.mark("capstan:snapshot", { detail: this.items.size });
      if (this.complete) performance.mark("capstan:complete", { detail: this.items.size });
    });
    es.addEventListener("items", (m) => {
      const data = (m as MessageEvent<string>).data;
      this.enqueue(() => {
        const s = JSON.parse(data) as SnapshotItems;
        for (const i of unpackSummaries(s.items)) this.items.set(i.key, i);
      });
    });
    es.addEventListener("snapshot-end", (m) => {
      const data = (m as MessageEvent<string>).data;
      this.enqueue(() => {
        const s = JSON.parse(data) as SnapshotEnd;
        for (const e of s.events) this.events.set(e.key, e);
        this.complete = true;
        this.recount();
        this.changed();
        performance.mark("capstan:complete", { detail: this.items.size });
      });
    });
    es.addEventListener("changes", (m) => {
      const data = (m as MessageEvent<string>).data;
      const apply = () => {
        const b = JSON.parse(data) as ChangeBatch;
        for (const i of unpackSummaries(b.upserts)) {
          this.count(this.items.get(i.key), -1);
          this.items.set(i.key, i);
          this.count(i, 1);
        }
        for (const k of b.deletes) {
          this.count(this.items.get(k), -1);
          this.items.delete(k);
        }
        for (const e of b.events) this.events.set(e.key, e);
        for (const k of b.eventDeletes) this.events.delete(k);
        this.changed();
      };
      if (this.queue.length > 0 || this.draining) this.enqueue(apply);
      else apply();
    });
    es.onerror = () => {
      // EventSource reconnects by itself; the snapshot it gets then replaces the model.
      this.connection = es.readyState === EventSource.CLOSED ? "unauthorized" : "reconnecting";
      this.changed();
    };
  }

  close(): void {
    this.source?.close();
    this.source = undefined;
  }

  /** Forgets everything received: on logout, so the next user of this tab never sees the last one's objects. */
  clear(): void {
    this.queue.length = 0;
    this.items.clear();
    this.events.clear();
    this.counts = {};
    this.complete = false;
    this.connection = "connecting";
    this.changed();
  }

  /** Connected or connecting (not closed, not refused). */
  get open(): boolean {
    return this.source !== undefined && this.source.readyState !== EventSource.CLOSED;
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private enqueue(fn: () => void): void {
    this.queue.push(fn);
    if (this.draining) return;
    this.draining = true;
    const step = () => {
      this.queue.shift()?.();
      if (this.queue.length > 0) setTimeout(step, 0);
      else this.draining = false;
    };
    afterPaint(step);
  }

  private recount(): void {
    this.counts = {};
    for (const s of this.items.values()) this.count(s, 1);
  }

  private count(s: Summary | undefined, by: 1 | -1): void {
    if (!s || !this.complete) return;
    let c = this.counts[s.kind];
    if (!c) {
      c = emptyCounts();
      this.counts[s.kind] = c;
    }
    c[s.state] += by;
  }

  // Many batches in one frame render once.
  private changed(): void {
    this.version++;
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      for (const l of this.listeners) l();
    });
  }
}
