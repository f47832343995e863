// Client-side rate limiting, as client-go's flowcontrol token bucket: `burst` requests at once, then `qps` a second.
// Callers are served in the order they asked, so a busy informer cannot starve a reconciler's write.
// When the apiserver paces clients itself (API Priority and Fairness), the bucket is switched off for good, as Flux's
// controllers do at start (QPS and burst -1): see disable().

export interface RateLimiterOptions {
  /** Sustained requests per second; 0 or less disables limiting. Flux's default is 50. */
  qps: number;
  /** Requests allowed at once after an idle period. Flux's default is 300. */
  burst: number;
  /** Clock, for tests. */
  now?: () => number;
}

export class TokenBucket {
  private readonly qps: number;
  private readonly burst: number;
  private readonly now: () => number;
  private tokens: number;
  private last: number;
  private disabled = false;
  private throttled = 0;
  private readonly waiters = new Set<() => void>();

  constructor(options: RateLimiterOptions) {
    this.qps = options.qps;
    this.burst = Math.max(1, Math.floor(options.burst));
    this.now = options.now ?? Date.now;
    this.tokens = this.burst;
    this.last = this.now();
  }

  /**
   * Takes one token and returns how long the caller must wait before using it (0 when one was available). Tokens
   * may go negative: each waiting caller holds a reservation, which is what keeps the order first come, first served.
   */
  reserve(): number {
    if (!this.enabled) return 0;
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }

  /** Takes a token if one is available now; never waits and never goes into debt. */
  tryTake(): boolean {
    if (!this.enabled) return true;
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Waits for a token. */
  async take(): Promise<void> {
    const waitMs = this.reserve();
    if (waitMs <= 0) return;
    this.throttled += 1;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      this.waiters.add(done);
    });
  }

  /** Limits at all: qps above 0 and not disabled. */
  get enabled(): boolean {
    return this.qps > 0 && !this.disabled;
  }

  /** How many take() calls had to wait for a token, since creation. */
  get throttledCount(): number {
    return this.throttled;
  }

  /** Stops limiting from now on, and lets every caller waiting for a token go at once. */
  disable(): void {
    this.disabled = true;
    for (const release of [...this.waiters]) release();
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
  }
}
