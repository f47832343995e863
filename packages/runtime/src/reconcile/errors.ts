// Errors that carry what the reconcile loop should do with them (fluxcd/source-controller's serror package).
// Every error that reaches a condition needs a CamelCase reason and a message a user can act on.

export interface ReasonedErrorOptions {
  /** CamelCase condition reason, from Flux's list where one exists. */
  reason: string;
  cause?: unknown;
  /** Emit a Warning Event for it (default true). */
  event?: boolean;
}

/** An error with a condition reason; thrown as is, it is transient: the key is retried with backoff. */
export class ReconcileError extends Error {
  readonly reason: string;
  readonly event: boolean;

  constructor(message: string, options: ReasonedErrorOptions) {
    super(message, { cause: options.cause });
    this.name = "ReconcileError";
    this.reason = options.reason;
    this.event = options.event ?? true;
  }
}

/**
 * The spec cannot work as written (invalid reference, unparseable field): retrying cannot help. The object becomes
 * Stalled=True, Ready=False, observedGeneration is set, and it is not requeued until its spec changes.
 */
export class StallingError extends ReconcileError {
  constructor(message: string, options: ReasonedErrorOptions) {
    super(message, options);
    this.name = "StallingError";
  }
}

/**
 * Something this object depends on is not ready yet (a source without an artifact, a dependency not Ready): requeue
 * after `requeueAfterMs`, record Ready=False with the reason, but do not count it as a failure or back off.
 */
export class WaitingError extends ReconcileError {
  readonly requeueAfterMs: number;

  constructor(message: string, options: ReasonedErrorOptions & { requeueAfterMs: number }) {
    super(message, { event: false, ...options });
    this.name = "WaitingError";
    this.requeueAfterMs = options.requeueAfterMs;
  }
}

/** The reason and message a condition gets for any thrown value. */
export function describeError(err: unknown): { reason: string; message: string } {
  if (err instanceof ReconcileError) return { reason: err.reason, message: err.message };
  if (err instanceof Error) return { reason: "ReconciliationFailed", message: err.message };
  return { reason: "ReconciliationFailed", message: String(err) };
}
