// Garbage collection of the artifact cache: after a reconcile fetched a new artifact, and no more often than
// every `delayMs`, every cached artifact is dropped except those still referenced (the artifacts the sources of
// live Kustomizations publish) and those in use by a reconcile right now.
import type { ArtifactFetcher } from "./fetcher.js";

export interface CacheJanitorOptions {
  fetcher: Pick<ArtifactFetcher, "evictExcept">;
  /** The digests that sources of live Kustomizations currently publish. */
  referenced(): Iterable<string>;
  /** Quiet time before a collection runs. Default 10s. */
  delayMs?: number;
  onError?(err: unknown): void;
}

export class CacheJanitor {
  private readonly inUse = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  // Set for the whole of a collection. A reconcile waits for it before taking its digest into use, and a collection
  // computes what to keep synchronously when it starts: one of them always sees the other.
  private collecting: Promise<void> | undefined;

  constructor(private readonly options: CacheJanitorOptions) {}

  /** Runs fn while keeping `digest` out of any collection. */
  async using<T>(digest: string, fn: () => Promise<T>): Promise<T> {
    while (this.collecting) await this.collecting;
    this.inUse.set(digest, (this.inUse.get(digest) ?? 0) + 1);
    try {
      return await fn();
    } finally {
      const n = (this.inUse.get(digest) ?? 1) - 1;
      if (n > 0) this.inUse.set(digest, n);
      else this.inUse.delete(digest);
    }
  }

  /** Asks for a collection soon (debounced). */
  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.collect();
    }, this.options.delayMs ?? 10_000);
    this.timer.unref();
  }

  /** Collects now; a call during a collection joins it. */
  collect(): Promise<void> {
    if (this.collecting) return this.collecting;
    let keep: Set<string>;
    try {
      keep = new Set([...this.options.referenced(), ...this.inUse.keys()]);
    } catch (err) {
      this.options.onError?.(err);
      return Promise.resolve();
    }
    const run = this.options.fetcher
      .evictExcept(keep)
      .catch((err: unknown) => this.options.onError?.(err))
      .finally(() => {
        this.collecting = undefined;
      });
    this.collecting = run;
    return run;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
