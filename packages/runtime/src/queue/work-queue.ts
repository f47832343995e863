import { noQueueMetrics, type QueueMetrics } from "./metrics.js";
import { type BackoffOptions, ExponentialBackoff, type RateLimiter } from "./rate-limiter.js";

export interface WorkQueueOptions<K> {
  metrics?: QueueMetrics;
  rateLimiter?: RateLimiter<K>;
  backoff?: BackoffOptions;
  /** Clock for metrics, in ms; tests may replace it. */
  now?: () => number;
}

/**
 * A work queue with client-go's semantics:
 * - a key is in the queue at most once, however often it is added before a worker takes it (dirty set);
 * - a key that a worker holds is never handed to a second worker; adding it meanwhile marks it dirty, and done()
 *   queues it once more, so the change that arrived during processing is seen;
 * - addAfter() delays an add (requeue-after); when a key waits twice, the earlier time wins;
 * - addRateLimited() delays by the key's exponential backoff; forget() resets it after a success.
 *
 * shutDown() stops intake: adds are ignored, delayed adds are cancelled, keys still waiting are no longer handed out
 * (another replica's initial list covers them) and get() resolves undefined; drain() resolves once in-flight work
 * is done.
 */
export class WorkQueue<K = string> {
  readonly #queue = new Deque<K>();
  readonly #dirty = new Set<K>();
  readonly #processing = new Map<K, number>();
  readonly #addedAt = new Map<K, number>();
  /** Seconds each key being processed waited in the queue, for the reconcile's trace (takeWait). */
  readonly #waited = new Map<K, number>();
  /**
   * (Capstan) The clock reading of each key's latest add, deduplicated adds included: the newest event the next
   * reconcile of the key answers. Moved to #requested when the key is handed out (takeRequestedAt).
   */
  readonly #lastAdd = new Map<K, number>();
  readonly #requested = new Map<K, number>();
  readonly #waiting = new Map<K, { at: number; timer: NodeJS.Timeout }>();
  readonly #getters: ((key: K | undefined) => void)[] = [];
  readonly #drainers: (() => void)[] = [];
  readonly #metrics: QueueMetrics;
  readonly #limiter: RateLimiter<K>;
  readonly #now: () => number;
  #shuttingDown = false;
  readonly #stopped = new AbortController();

  constructor(options: WorkQueueOptions<K> = {}) {
    this.#metrics = options.metrics ?? noQueueMetrics;
    this.#limiter = options.rateLimiter ?? new ExponentialBackoff<K>(options.backoff);
    this.#now = options.now ?? (() => performance.now());
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Aborts when shutDown() is called: what waits on behalf of a key being processed (a parked wait) ends then. */
  get stopSignal(): AbortSignal {
    return this.#stopped.signal;
  }

  /** Keys waiting for a worker (not counting delayed adds or keys being processed). */
  get length(): number {
    return this.#queue.length;
  }

  /** Keys a worker holds now. */
  get processing(): number {
    return this.#processing.size;
  }

  add(key: K): void {
    if (this.#shuttingDown) return;
    this.#lastAdd.set(key, this.#now());
    if (this.#dirty.has(key)) return;
    this.#metrics.add();
    this.#dirty.add(key);
    this.#addedAt.set(key, this.#now());
    if (this.#processing.has(key)) return;
    this.#enqueue(key);
  }

  addAfter(key: K, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const existing = this.#waiting.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.#waiting.delete(key);
      this.add(key);
    }, delayMs);
    this.#waiting.set(key, { at, timer });
  }

  addRateLimited(key: K): void {
    if (this.#shuttingDown) return;
    this.#metrics.retry();
    this.addAfter(key, this.#limiter.when(key));
  }

  forget(key: K): void {
    this.#limiter.forget(key);
  }

  numRequeues(key: K): number {
    return this.#limiter.numRequeues(key);
  }

  /**
   * The next key to work on, once there is one; undefined after shutDown(), or once `signal` aborts while no key
   * was handed out yet (a worker pool that needs the slot of its idle getter back). Call done(key) when finished.
   */
  get(signal?: AbortSignal): Promise<K | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#queue.shift();
    if (key !== undefined) return Promise.resolve(this.#take(key));
    if (signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const getter = (k: K | undefined) => {
        signal?.removeEventListener("abort", abort);
        resolve(k);
      };
      const abort = () => {
        const at = this.#getters.indexOf(getter);
        // Already handed a key (the getter ran first): that hand-out stands.
        if (at < 0) return;
        this.#getters.splice(at, 1);
        resolve(undefined);
      };
      this.#getters.push(getter);
      signal?.addEventListener("abort", abort, { once: true });
    });
  }

  /**
   * Seconds the key a worker now holds waited between its add and get() (the workqueue_queue_duration_seconds
   * observation of this hand-out); undefined if not known. Read once: it is forgotten after.
   */
  takeWait(key: K): number | undefined {
    const s = this.#waited.get(key);
    this.#waited.delete(key);
    return s;
  }

  /**
   * (Capstan) The clock reading (performance.now() unless the queue was given another clock) of the latest add of
   * the key a worker now holds, deduplicated adds included: whatever happened before it is something this hand-out
   * answers, so a result computed after it (a shared `git ls-remote`) is as fresh as one computed now. Read once.
   */
  takeRequestedAt(key: K): number | undefined {
    const at = this.#requested.get(key);
    this.#requested.delete(key);
    return at;
  }

  done(key: K): void {
    const started = this.#processing.get(key);
    if (started === undefined) return;
    this.#processing.delete(key);
    this.#waited.delete(key);
    this.#requested.delete(key);
    this.#metrics.worked((this.#now() - started) / 1000);
    if (this.#dirty.has(key) && !this.#shuttingDown) this.#enqueue(key);
    if (this.#processing.size === 0) for (const d of this.#drainers.splice(0)) d();
  }

  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.#stopped.abort(new Error("work queue shut down"));
    for (const { timer } of this.#waiting.values()) clearTimeout(timer);
    this.#waiting.clear();
    for (const g of this.#getters.splice(0)) g(undefined);
  }

  /** Resolves when no worker holds a key. */
  drain(): Promise<void> {
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainers.push(resolve));
  }

  #enqueue(key: K): void {
    const getter = this.#getters.shift();
    if (getter) {
      getter(this.#take(key));
      return;
    }
    this.#queue.push(key);
    this.#metrics.depth(this.#queue.length);
  }

  #take(key: K): K {
    const now = this.#now();
    this.#dirty.delete(key);
    this.#processing.set(key, now);
    const added = this.#addedAt.get(key);
    this.#addedAt.delete(key);
    const last = this.#lastAdd.get(key);
    this.#lastAdd.delete(key);
    if (last !== undefined) this.#requested.set(key, last);
    if (added !== undefined) {
      this.#metrics.queued((now - added) / 1000);
      this.#waited.set(key, (now - added) / 1000);
    }
    this.#metrics.depth(this.#queue.length);
    return key;
  }
}

/** A FIFO whose shift() is O(1) amortised, so 10,000 queued keys do not cost O(n²). */
class Deque<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}
