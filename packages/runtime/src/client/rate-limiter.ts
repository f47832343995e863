// Client-side rate limiting, as client-go's flowcontrol token bucket: `burst` requests at once, then `qps` a second.
// Callers are served in the order they asked, so a busy informer cannot starve a reconciler's write.

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
    if (this.qps <= 0) return 0;
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }

  /** Takes a token if one is available now; never waits and never goes into debt. */
  tryTake(): boolean {
    if (this.qps <= 0) return true;
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Waits for a token. */
  async take(): Promise<void> {
    const waitMs = this.reserve();
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
  }
}
