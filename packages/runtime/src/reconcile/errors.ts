// One error model for every controller (fluxcd/source-controller's serror package, made the runtime's): an error
// says which reason it reports, which of the reconciler's conditions it lands on, and whether a retry can help. The
// reconcile loop marks the condition, summarizes Ready, and stalls, waits or backs off accordingly, so a step only
// throws. Every error that reaches a condition needs a CamelCase reason and a message a user can act on.
import { Reasons } from "../apis/meta.js";

export interface ReasonedErrorOptions {
  /** CamelCase condition reason, from Flux's list where one exists. */
  reason: string;
  /**
   * The condition the failure lands on (e.g. FetchFailed). The runtime marks it with the reason and message: True when
   * the reconciler declares the type abnormal-true (negativePolarity), False otherwise (e.g. SourceVerified, Healthy).
   */
  condition?: string;
  /** A retry cannot help until the spec changes: Stalled=True, no requeue (default false). */
  stalling?: boolean;
  cause?: unknown;
  /** Emit a Warning Event for it (default true). */
  event?: boolean;
}

/** An error with a condition reason; unless it stalls, it is transient: the key is retried (backoff or retryInterval). */
export class ReconcileError extends Error {
  readonly reason: string;
  readonly condition: string | undefined;
  readonly stalling: boolean;
  readonly event: boolean;

  constructor(message: string, options: ReasonedErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ReconcileError";
    this.reason = options.reason;
    this.condition = options.condition;
    this.stalling = options.stalling ?? false;
    this.event = options.event ?? true;
  }

  /**
   * What was being done, in front of a failure's message: a ReconcileError keeps its reason, condition and stalling
   * (the original is the cause); a WaitingError is returned as is; anything else becomes ReconciliationFailed.
   */
  static wrap(err: unknown, prefix: string): ReconcileError {
    if (err instanceof WaitingError) return err;
    if (err instanceof ReconcileError) {
      return new ReconcileError(`${prefix}: ${err.message}`, {
        reason: err.reason,
        ...(err.condition === undefined ? {} : { condition: err.condition }),
        stalling: err.stalling,
        event: err.event,
        cause: err,
      });
    }
    return new ReconcileError(`${prefix}: ${err instanceof Error ? err.message : String(err)}`, {
      reason: Reasons.ReconciliationFailed,
      cause: err,
    });
  }
}

/**
 * The spec cannot work as written (invalid reference, unparseable field): retrying cannot help. The object becomes
 * Stalled=True, Ready=False, observedGeneration is set, and it is not requeued until its spec changes.
 * (`new ReconcileError(msg, { stalling: true, ... })` is the same.)
 */
export class StallingError extends ReconcileError {
  constructor(message: string, options: Omit<ReasonedErrorOptions, "stalling">) {
    super(message, { ...options, stalling: true });
    this.name = "StallingError";
  }
}

/**
 * Something this object depends on is not ready yet (a source without an artifact, a dependency not Ready): requeue
 * after `requeueAfterMs`, record Ready=False with the reason, but do not count it as a failure or back off.
 */
export class WaitingError extends ReconcileError {
  readonly requeueAfterMs: number;

  constructor(message: string, options: Omit<ReasonedErrorOptions, "stalling"> & { requeueAfterMs: number }) {
    super(message, { event: false, ...options, stalling: false });
    this.name = "WaitingError";
    this.requeueAfterMs = options.requeueAfterMs;
  }
}

/** Whether a thrown value stalls the object (a retry cannot help). */
export function isStalling(err: unknown): err is ReconcileError {
  return err instanceof ReconcileError && err.stalling;
}

/** The reason and message a condition gets for any thrown value. */
export function describeError(err: unknown): { reason: string; message: string } {
  if (err instanceof ReconcileError) return { reason: err.reason, message: err.message };
  if (err instanceof Error) return { reason: Reasons.ReconciliationFailed, message: err.message };
  return { reason: Reasons.ReconciliationFailed, message: String(err) };
}
