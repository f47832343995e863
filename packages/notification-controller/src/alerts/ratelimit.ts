// Collapses identical notifications within a window, as Flux's event server does (one per event key per interval,
// 5 minutes by default): a flapping object does not page anyone every few seconds.
export class EventRateLimiter {
  private readonly lastSent = new Map<string, number>();

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True if a notification with this key may go out now (and records it); false if it is a duplicate in the window. */
  allow(key: string): boolean {
    if (this.intervalMs <= 0) return true;
    const t = this.now();
    const last = this.lastSent.get(key);
    if (last !== undefined && t - last < this.intervalMs) return false;
    this.lastSent.set(key, t);
    if (this.lastSent.size > 10_000) this.prune(t);
    return true;
  }

  private prune(t: number): void {
    for (const [key, at] of this.lastSent) if (t - at >= this.intervalMs) this.lastSent.delete(key);
  }
}
