// One pull's cancellation: the reconcile's signal (the manager's, alive as long as the process) or spec.timeout,
// whichever comes first, released when the pull ends. AbortSignal.any([ctx.signal, AbortSignal.timeout(ms)]) did the
// same but leaves work behind per call: the long-lived signal keeps a (weak) entry for every composite made from it,
// cleaned only by finalizers, and each AbortSignal.timeout holds its signal until the timer fires, however early the
// pull ended (a tight loop of 10,000 calls keeps ~20 MiB after gc(); bench/source/README.md, "OCI memory after Ready",
// has the measure and why it was not the cause of the RSS growth).
export interface Deadline {
  signal: AbortSignal;
  /** Removes the listener on the parent and clears the timer. Idempotent. */
  dispose(): void;
}

export function deadline(parent: AbortSignal | undefined, timeoutMs: number): Deadline {
  const controller = new AbortController();
  const onAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(
    () => controller.abort(new DOMException("the operation timed out", "TimeoutError")),
    timeoutMs,
  );
  timer.unref();
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      parent?.removeEventListener("abort", onAbort);
    },
  };
}
