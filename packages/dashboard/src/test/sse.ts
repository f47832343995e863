// A minimal Server-Sent Events reader over fetch, for tests: collects the snapshot and every change batch, with the
// summaries unpacked from their compact wire form as the page unpacks them.
import type { ChangeBatch, EventView, Snapshot, Summary } from "../shared/types.js";
import { unpackSummary } from "../shared/wire.js";

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
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event === "snapshot" && data) {
            const s = JSON.parse(data) as Snapshot;
            resolveSnapshot({ items: s.items.map(unpackSummary), events: s.events });
          }
          if (event === "changes" && data) {
            const b = JSON.parse(data) as ChangeBatch;
            batches.push({ ...b, upserts: b.upserts.map(unpackSummary) });
          }
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
