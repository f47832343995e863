import type { WorkQueue } from "./work-queue.js";

/** What a worker does with a key after handling it. */
export type Outcome =
  /** Finished: reset the key's backoff and drop it until something adds it again. */
  | { type: "done" }
  /** Finished for now (not a failure): reset the backoff, run again after the delay. */
  | { type: "requeueAfter"; delayMs: number }
  /** Failed: run again after the key's exponential backoff. */
  | { type: "retry" };

/**
 * (Capstan) What a handler may do with its worker while it runs: give it up during a wait that costs no CPU (a
 * health check woken by watch events), and take one back when the wait ends.
 */
export interface Lease {
  /**
   * Runs `wait` without holding a worker: another key may be handled meanwhile. The key stays processing (no second
   * handler of it starts; an add meanwhile runs it once more after, as always). Resolves with `wait`'s result once a
   * worker is free again (a handler coming back from a wait goes before keys not started yet). Past the pool's
   * maxParked, or inside another park, `wait` runs holding the worker, as before parking existed.
   * `signal` aborts when the queue shuts down (drain, leadership lost): parked waits are cancelled, so a wait must
   * end when it aborts.
   */
  park<R>(wait: (signal: AbortSignal) => Promise<R>): Promise<R>;
}

export interface WorkerPoolOptions {
  /** Most handlers parked at once (default defaultParkedPerWorker × concurrency); beyond it a wait holds its worker. */
  maxParked?: number;
  /** Hears the number of handlers holding a worker and the number parked, whenever one changes. */
  onChange?(counts: { active: number; parked: number }): void;
}

/**
 * Handlers parked at once per worker unless the caller says otherwise (README: kustomize-controller's --concurrent):
 * the pool parks at most this many times its concurrency. A bound relative to the workers, not a large constant: a
 * parked wait is usually a wait on the cluster (a Deployment rolling out), and a controller that parks without bound
 * starts far more of those at once than the cluster's own controllers work through within a health check's timeout
 * (bench/peer at N = 1,000: 1,000 upgrades applied within a minute, kube-controller-manager rolled them out over three,
 * and 782 health checks with the 1m timeout failed).
 */
export const defaultParkedPerWorker = 4;

export interface WorkerPool {
  /** Resolves once intake stopped (queue.shutDown()) and every handler, parked ones included, returned. */
  readonly finished: Promise<void>;
  /** Handlers holding a worker now. */
  active(): number;
  /** (Capstan) Handlers parked now: processing a key, holding no worker. */
  parked(): number;
}

/**
 * Handles keys from the queue with at most `concurrency` handlers holding a worker at once, until the queue shuts
 * down. The queue guarantees that no two handlers hold the same key. A handler that throws is treated as a retry;
 * onError hears about it. A handler may park (Lease.park) while it waits for something that costs no CPU: its worker
 * goes to the next key, and it takes one back when the wait ends, before new keys do.
 */
export function startWorkers<K>(
  queue: WorkQueue<K>,
  concurrency: number,
  handle: (key: K, lease: Lease) => Promise<Outcome>,
  onError: (key: K, err: unknown) => void = () => undefined,
  options: WorkerPoolOptions = {},
): WorkerPool {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error(`workers: concurrency must be a positive integer, got ${concurrency}`);
  }
  const maxParked = options.maxParked ?? defaultParkedPerWorker * concurrency;
  if (!Number.isInteger(maxParked) || maxParked < 0) {
    throw new Error(`workers: maxParked must be a non-negative integer, got ${maxParked}`);
  }
  const slots = new Slots(concurrency);
  const running = new Set<Promise<void>>();
  let active = 0;
  let parked = 0;
  const changed = () => options.onChange?.({ active, parked });

  const run = async (key: K) => {
    let holding = true;
    let finished = false;
    const lease: Lease = {
      park: async (wait) => {
        if (!holding || finished || parked >= maxParked) return wait(queue.stopSignal);
        holding = false;
        active--;
        parked++;
        changed();
        slots.release();
        try {
          return await wait(queue.stopSignal);
        } finally {
          parked--;
          changed();
          if (!finished) {
            await slots.acquire(true);
            if (finished) slots.release();
            else {
              holding = true;
              active++;
              changed();
            }
          }
        }
      },
    };
    let outcome: Outcome;
    try {
      outcome = await handle(key, lease);
    } catch (err) {
      onError(key, err);
      outcome = { type: "retry" };
    } finally {
      // A handler that returned without awaiting its park has no worker to give back.
      finished = true;
      if (holding) {
        active--;
        changed();
        slots.release();
      }
    }
    // Record the outcome before done(): done() may hand the key straight to the next handler.
    applyOutcome(queue, key, outcome);
    queue.done(key);
  };

  const dispatch = async () => {
    for (;;) {
      await slots.acquire(false);
      // A handler back from its park asked between the hand-over of this slot and now: it goes first.
      if (slots.urgentWaiting) {
        slots.release();
        continue;
      }
      // Idle with a worker in hand: a handler coming back from a park takes it (the get ends with undefined).
      const idle = new AbortController();
      slots.idle = idle;
      const key = await queue.get(idle.signal);
      slots.idle = undefined;
      if (key === undefined) {
        slots.release();
        if (queue.shuttingDown) return;
        continue;
      }
      active++;
      changed();
      const p = run(key).finally(() => running.delete(p));
      running.add(p);
    }
  };

  const finished = dispatch().then(async () => {
    while (running.size > 0) await Promise.allSettled([...running]);
  });
  return { finished, active: () => active, parked: () => parked };
}

/**
 * The workers as a counting semaphore: `urgent` acquirers (handlers back from a park) go before the dispatcher,
 * and when none is free the dispatcher's idle slot is taken back from it.
 */
class Slots {
  #free: number;
  readonly #urgent: (() => void)[] = [];
  readonly #fresh: (() => void)[] = [];
  /** Set while the dispatcher holds a slot waiting for a key; aborting it returns that slot. */
  idle: AbortController | undefined;

  constructor(n: number) {
    this.#free = n;
  }

  get urgentWaiting(): boolean {
    return this.#urgent.length > 0;
  }

  acquire(urgent: boolean): Promise<void> {
    if (this.#free > 0 && (urgent || this.#urgent.length === 0)) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      if (urgent) {
        this.#urgent.push(resolve);
        this.idle?.abort();
      } else {
        this.#fresh.push(resolve);
      }
    });
  }

  release(): void {
    const next = this.#urgent.shift() ?? this.#fresh.shift();
    if (next) next();
    else this.#free++;
  }
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
