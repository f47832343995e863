import type { WorkQueue } from "./work-queue.js";

/** What a worker does with a key after handling it. */
export type Outcome =
  /** Finished: reset the key's backoff and drop it until something adds it again. */
  | { type: "done" }
  /** Finished for now (not a failure): reset the backoff, run again after the delay. */
  | { type: "requeueAfter"; delayMs: number }
  /** Failed: run again after the key's exponential backoff. */
  | { type: "retry" };

export interface WorkerPool {
  /** Resolves once every worker has returned, which happens after queue.shutDown() and the in-flight work. */
  readonly finished: Promise<void>;
  /** Workers handling a key now. */
  active(): number;
}

/**
 * Starts `concurrency` workers that take keys from the queue until it shuts down. The queue guarantees that no two
 * workers hold the same key. A handler that throws is treated as a retry; onError hears about it.
 */
export function startWorkers<K>(
  queue: WorkQueue<K>,
  concurrency: number,
  handle: (key: K) => Promise<Outcome>,
  onError: (key: K, err: unknown) => void = () => undefined,
): WorkerPool {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error(`workers: concurrency must be a positive integer, got ${concurrency}`);
  }
  let active = 0;
  const worker = async () => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      active++;
      let outcome: Outcome;
      try {
        outcome = await handle(key);
      } catch (err) {
        onError(key, err);
        outcome = { type: "retry" };
      } finally {
        active--;
      }
      // Record the outcome before done(): done() may hand the key straight to another worker.
      applyOutcome(queue, key, outcome);
      queue.done(key);
    }
  };
  const finished = Promise.all(Array.from({ length: concurrency }, worker)).then(() => undefined);
  return { finished, active: () => active };
}

function applyOutcome<K>(queue: WorkQueue<K>, key: K, outcome: Outcome): void {
  switch (outcome.type) {
    case "done":
      queue.forget(key);
      return;
    case "requeueAfter":
      queue.forget(key);
      queue.addAfter(key, outcome.delayMs);
      return;
    case "retry":
      queue.addRateLimited(key);
      return;
  }
}
