/**
 * Per-key exponential backoff, as client-go's ItemExponentialFailureRateLimiter that Flux configures with
 * --min-retry-delay (750ms) and --max-retry-delay (15m): the n-th consecutive failure of a key waits base·2^(n-1),
 * capped at max; forget() resets the key after a success.
 */
export interface RateLimiter<K> {
  /** The delay before the key may run again, counting this failure. */
  when(key: K): number;
  forget(key: K): void;
  numRequeues(key: K): number;
}

export interface BackoffOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export const defaultBaseDelayMs = 750;
export const defaultMaxDelayMs = 15 * 60 * 1000;

export class ExponentialBackoff<K> implements RateLimiter<K> {
  readonly #failures = new Map<K, number>();
  readonly #base: number;
  readonly #max: number;

  constructor(options: BackoffOptions = {}) {
    this.#base = options.baseDelayMs ?? defaultBaseDelayMs;
    this.#max = options.maxDelayMs ?? defaultMaxDelayMs;
    if (this.#base <= 0 || this.#max < this.#base) {
      throw new Error(`backoff: need 0 < base (${this.#base}ms) <= max (${this.#max}ms)`);
    }
  }

  when(key: K): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    // 2^failures overflows to Infinity long after the cap is reached, so Math.min keeps it finite.
    return Math.min(this.#base * 2 ** failures, this.#max);
  }

  forget(key: K): void {
    this.#failures.delete(key);
  }

  numRequeues(key: K): number {
    return this.#failures.get(key) ?? 0;
  }
}
