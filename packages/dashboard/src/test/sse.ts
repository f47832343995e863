// A minimal Server-Sent Events reader over fetch, for tests: collects the snapshot (its parts put together) and every
// change batch, with the summaries unpacked from their compact wire form as the page unpacks them.
import type { ChangeBatch, EventView, Snapshot, SnapshotEnd, SnapshotItems, Summary } from "../shared/types.js";
import { unpackSummaries } from "../shared/wire.js";

interface ReadSnapshot {
  items: Summary[];
  events: EventView[];
}
type ReadBatch = Omit<ChangeBatch, "upserts"> & { upserts: Summary[] };

export interface SseClient {
  snapshot: Promise<ReadSnapshot>;
  batches: ReadBatch[];
  /** Resolves when the server ends the stream (or it fails, or is closed here). */
  ended: Promise<void>;
  close(): void;
}

export function openStream(url: string, headers: Record<string, string>): SseClient {
  const abort = new AbortController();
  const batches: ReadBatch[] = [];
  let resolveSnapshot: (s: ReadSnapshot) => void = () => undefined;
  let rejectSnapshot: (e: Error) => void = () => undefined;
  const snapshot = new Promise<ReadSnapshot>((resolve, reject) => {
    resolveSnapshot = resolve;
    rejectSnapshot = reject;
  });
  let parts: ReadSnapshot | undefined;
  const onMessage = (block: string) => {
    const event = /^event: (.*)$/m.exec(block)?.[1];
    const data = /^data: (.*)$/m.exec(block)?.[1];
    if (!data) return;
    if (event === "snapshot") {
      const s = JSON.parse(data) as Snapshot;
      parts = { items: unpackSummaries(s.items), events: s.events };
      if (!s.more) resolveSnapshot(parts);
    } else if (event === "items" && parts) {
      parts.items.push(...unpackSummaries((JSON.parse(data) as SnapshotItems).items));
    } else if (event === "snapshot-end" && parts) {
      parts.events.push(...(JSON.parse(data) as SnapshotEnd).events);
      resolveSnapshot(parts);
    } else if (event === "changes") {
      const b = JSON.parse(data) as ChangeBatch;
      batches.push({ ...b, upserts: unpackSummaries(b.upserts) });
    }
  };
  const ended = (async () => {
    try {
      const res = await fetch(`${url}/api/stream`, { headers, signal: abort.signal });
      if (!res.ok || !res.body) throw new Error(`stream: HTTP ${res.status}`);
      const decoder = new TextDecoder();
      let buf = "";
      for await (const chunk of res.body) {
        buf += decoder.decode(chunk as Uint8Array, { stream: true });
        let i = buf.indexOf("\n\n");
        while (i >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          onMessage(block);
          i = buf.indexOf("\n\n");
        }
      }
    } catch (err) {
      rejectSnapshot(err as Error);
    }
    rejectSnapshot(new Error("stream: ended before a snapshot"));
  })();
  return { snapshot, batches, ended, close: () => abort.abort() };
}
