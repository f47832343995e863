// The live model in the browser: one EventSource; a snapshot, then batches of changes. Components read from it and
// re-render when its version moves. No polling: the server pushes.
import { useEffect, useState } from "preact/hooks";
import type { ChangeBatch, EventView, Snapshot, Summary } from "../shared/types.js";
import { unpackSummary } from "../shared/wire.js";

export type Connection = "connecting" | "live" | "reconnecting" | "unauthorized";

export class LiveModel {
  readonly items = new Map<string, Summary>();
  readonly events = new Map<string, EventView>();
  version = 0;
  connection: Connection = "connecting";
  private source: EventSource | undefined;
  private readonly listeners = new Set<() => void>();
  private scheduled = false;

  connect(): void {
    this.source?.close();
    const es = new EventSource("/api/stream");
    this.source = es;
    es.addEventListener("snapshot", (m) => {
      const s = JSON.parse((m as MessageEvent<string>).data) as Snapshot;
      this.items.clear();
      this.events.clear();
      for (const w of s.items) {
        const i = unpackSummary(w);
        this.items.set(i.key, i);
      }
      for (const e of s.events) this.events.set(e.key, e);
      this.connection = "live";
      this.changed();
      // For the benchmark (and the browser's performance panel): when the first snapshot was in the model.
      performance.mark("capstan:snapshot", { detail: s.items.length });
    });
    es.addEventListener("changes", (m) => {
      const b = JSON.parse((m as MessageEvent<string>).data) as ChangeBatch;
      for (const w of b.upserts) {
        const i = unpackSummary(w);
        this.items.set(i.key, i);
      }
      for (const k of b.deletes) this.items.delete(k);
      for (const e of b.events) this.events.set(e.key, e);
      for (const k of b.eventDeletes) this.events.delete(k);
      this.changed();
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
    this.items.clear();
    this.events.clear();
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

/** Re-renders the calling component whenever the model changes; returns the model's version. */
export function useLive(model: LiveModel): number {
  const [version, setVersion] = useState(model.version);
  useEffect(() => {
    // A snapshot may have landed between the first render and this subscription.
    setVersion(model.version);
    return model.subscribe(() => setVersion(model.version));
  }, [model]);
  return version;
}
