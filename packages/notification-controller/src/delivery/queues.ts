// One FIFO queue per Provider, each drained by its own loop: a slow or dead provider holds up only its own queue.
// Order within a queue is kept, so an object's notifications reach a provider in the order they happened.
import type { FluxEvent } from "../events/event.js";
import type { Notifier } from "../providers/notifier.js";
import { redact } from "../providers/settings.js";
import { UndeliverableError } from "../providers/unsupported.js";
import { defaultRetryPolicy, RetriesExhaustedError, type RetryPolicy, withRetries } from "./retry.js";

export interface DeliveryJob {
  /** namespace/name of the Provider: the queue. */
  providerKey: string;
  notifier: Notifier;
  event: FluxEvent;
  /** Secret values to scrub from any error text. */
  secrets: readonly string[];
  /** Called exactly once when the job is done, delivered or not. */
  onSettled?: (outcome: DeliveryOutcome) => void;
}

export interface DeliveryOutcome {
  delivered: boolean;
  attempts: number;
  /** Not sent at all: the Provider cannot deliver (its type is not supported). */
  dropped?: boolean;
  /** Redacted. */
  error?: string;
  /** Enqueue to settle, in ms. */
  latencyMs: number;
}

export interface DeliveryQueuesOptions {
  policy?: RetryPolicy;
  /** Oldest jobs beyond this are dropped (reported as failed) so a dead provider cannot grow memory without end. */
  maxQueueLength?: number;
  /** For the Alert Event and the failure metric. */
  onResult?: (job: DeliveryJob, outcome: DeliveryOutcome) => void;
  now?: () => number;
}

interface Entry {
  job: DeliveryJob;
  enqueuedAt: number;
}

export class DeliveryQueues {
  private readonly queues = new Map<string, Entry[]>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();
  private readonly policy: RetryPolicy;
  private readonly maxQueueLength: number;
  private readonly now: () => number;

  constructor(private readonly options: DeliveryQueuesOptions = {}) {
    this.policy = options.policy ?? defaultRetryPolicy;
    this.maxQueueLength = options.maxQueueLength ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  enqueue(job: DeliveryJob): void {
    if (this.abort.signal.aborted) {
      this.settle({ job, enqueuedAt: this.now() }, { delivered: false, attempts: 0, error: "delivery stopped" });
      return;
    }
    let queue = this.queues.get(job.providerKey);
    if (!queue) {
      queue = [];
      this.queues.set(job.providerKey, queue);
    }
    queue.push({ job, enqueuedAt: this.now() });
    while (queue.length > this.maxQueueLength) {
      const dropped = queue.shift() as Entry;
      this.settle(dropped, { delivered: false, attempts: 0, error: "provider queue full: notification dropped" });
    }
    if (!this.running.has(job.providerKey)) {
      // Started on the next microtask so the loop is registered before it can finish and unregister itself.
      const key = job.providerKey;
      this.running.set(
        key,
        Promise.resolve().then(() => this.drainQueue(key)),
      );
    }
  }

  /** Jobs waiting or in flight, per provider. */
  pending(providerKey?: string): number {
    if (providerKey !== undefined)
      return (this.queues.get(providerKey)?.length ?? 0) + (this.running.has(providerKey) ? 1 : 0);
    let n = 0;
    for (const key of this.queues.keys()) n += this.pending(key);
    return n;
  }

  /** Resolves when every queue is empty (or the timeout passes: returns false then). */
  async drain(timeoutMs = 30_000): Promise<boolean> {
    const deadline = this.now() + timeoutMs;
    while (this.running.size > 0) {
      const left = deadline - this.now();
      if (left <= 0) return false;
      await Promise.race([Promise.all(this.running.values()), new Promise((r) => setTimeout(r, left))]);
    }
    return true;
  }

  /** Cancels in-flight retries; queued jobs settle as not delivered. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.running.values());
  }

  private async drainQueue(key: string): Promise<void> {
    const queue = this.queues.get(key);
    while (queue && queue.length > 0) {
      const entry = queue.shift() as Entry;
      if (this.abort.signal.aborted) {
        this.settle(entry, { delivered: false, attempts: 0, error: "delivery stopped" });
        continue;
      }
      const { job } = entry;
      try {
        const { attempts } = await withRetries((signal) => job.notifier.post(job.event, signal), this.policy, {
          signal: this.abort.signal,
        });
        this.settle(entry, { delivered: true, attempts });
      } catch (err) {
        const cause = err instanceof RetriesExhaustedError ? err.cause : err;
        if (cause instanceof UndeliverableError) {
          this.settle(entry, { delivered: false, dropped: true, attempts: 0, error: cause.message });
          continue;
        }
        const attempts = err instanceof RetriesExhaustedError ? err.attempts : 1;
        const message = err instanceof Error ? err.message : String(err);
        this.settle(entry, { delivered: false, attempts, error: redact(message, job.secrets) });
      }
    }
    // Same tick as the emptiness check above: an enqueue after this starts a fresh loop.
    this.queues.delete(key);
    this.running.delete(key);
  }

  private settle(entry: Entry, partial: Omit<DeliveryOutcome, "latencyMs">): void {
    const outcome: DeliveryOutcome = { ...partial, latencyMs: this.now() - entry.enqueuedAt };
    try {
      entry.job.onSettled?.(outcome);
      this.options.onResult?.(entry.job, outcome);
    } catch {
      // A callback's failure must not stop the queue; callbacks report their own errors.
    }
  }
}
