// Status shows what a long reconcile is doing, as Flux's does: Reconciling=True, reason Progressing, with Flux's
// messages ("Building manifests for revision … with a timeout of …", "Running health checks for revision …"). Flux
// writes status at each phase; Capstan writes only once a pass has run longer than a few seconds, so a quick
// reconcile (the common, no-op interval) costs no extra status write.
import { KustomizationConditions } from "@capstan/api";
import { formatDuration, markReconciling, markUnknown, Reasons, type ReconcileContext } from "@capstan/runtime";
import type { KustomizationObject } from "./types.js";

/** How long a pass runs before its progress is written (Capstan; tests shorten it). */
export const defaultProgressDelayMs = 5_000;

export type Phase = "Fetching manifests" | "Building manifests" | "Detecting drift" | "Running health checks";

export class Progress {
  private message: string | undefined;
  private healthUnknown = false;
  private timer: NodeJS.Timeout | undefined;
  private writes: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly ctx: ReconcileContext,
    private readonly obj: KustomizationObject,
    private readonly options: { delayMs: number; started: number; timeoutMs: number },
  ) {}

  /** Enters a phase: shown at once when the pass already runs long, else when it gets there. */
  report(phase: Phase, revision: string): void {
    if (this.stopped) return;
    this.message = `${phase} for revision ${revision} with a timeout of ${formatDuration(this.options.timeoutMs)}`;
    // Flux marks Healthy Unknown while the health checks run: the last result no longer describes this revision.
    this.healthUnknown = phase === "Running health checks";
    const due = this.options.started + this.options.delayMs - Date.now();
    if (due <= 0) this.show();
    else this.timer ??= setTimeout(() => this.show(), due);
  }

  /**
   * Writes the status as it stands now, after every write queued before this one: writes made during a pass never
   * overtake each other, so the inventory recorded before an apply is never replaced by an older status.
   */
  write(): Promise<void> {
    const next = this.writes.then(() => this.ctx.patchStatus(this.obj));
    this.writes = next.catch(() => undefined);
    return next;
  }

  /** End of the pass: nothing more is shown, and the write in flight lands before the pass's final status patch. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.writes;
  }

  private show(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped || !this.message) return;
    markReconciling(this.obj, Reasons.Progressing, this.message);
    if (this.healthUnknown) markUnknown(this.obj, KustomizationConditions.Healthy, Reasons.Progressing, this.message);
    // A failed progress write is not the reconcile's failure: the final status patch says how it ended.
    this.write().catch((err: unknown) =>
      this.ctx.log.warn({ error: (err as Error).message }, "failed to record reconcile progress in status"),
    );
  }
}
