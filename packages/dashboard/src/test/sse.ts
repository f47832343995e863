// A minimal Server-Sent Events reader over fetch, for tests: collects the snapshot and every change batch.
import type { ChangeBatch, Snapshot } from "../shared/types.js";

export interface SseClient {
  snapshot: Promise<Snapshot>;
  batches: ChangeBatch[];
  close(): void;
}

export function openStream(url: string, headers: Record<string, string>): SseClient {
  const abort = new AbortController();
  const batches: ChangeBatch[] = [];
  let resolveSnapshot: (s: Snapshot) => void = () => undefined;
  let rejectSnapshot: (e: Error) => void = () => undefined;
  const snapshot = new Promise<Snapshot>((resolve, reject) => {
    resolveSnapshot = resolve;
    rejectSnapshot = reject;
  });
  void (async () => {
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
          if (event === "snapshot" && data) resolveSnapshot(JSON.parse(data) as Snapshot);
          if (event === "changes" && data) batches.push(JSON.parse(data) as ChangeBatch);
          i = buf.indexOf("\n\n");
        }
      }
    } catch (err) {
      rejectSnapshot(err as Error);
    }
  })();
  return { snapshot, batches, close: () => abort.abort() };
}
