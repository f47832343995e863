// status.history as Flux keeps it: one snapshot per distinct set of applied objects (by digest), newest first,
// at most five, counting how often each was reconciled and how the last attempt ended.
import type { Snapshot } from "@capstan/api";
import { formatDuration } from "@capstan/runtime";

export const maxHistory = 5;

export interface Attempt {
  digest: string;
  revision: string;
  status: string;
  at: Date;
  durationMs: number;
}

export function recordHistory(history: readonly Snapshot[] | undefined, attempt: Attempt): Snapshot[] {
  const at = attempt.at.toISOString().replace(/\.\d{3}Z$/, "Z");
  const previous = (history ?? []).find((s) => s.digest === attempt.digest);
  const updated: Snapshot = {
    digest: attempt.digest,
    firstReconciled: previous?.firstReconciled ?? at,
    lastReconciled: at,
    lastReconciledDuration: formatDuration(attempt.durationMs),
    lastReconciledStatus: attempt.status,
    totalReconciliations: (previous?.totalReconciliations ?? 0) + 1,
    metadata: { ...previous?.metadata, revision: attempt.revision },
  };
  return [updated, ...(history ?? []).filter((s) => s.digest !== attempt.digest)].slice(0, maxHistory);
}
