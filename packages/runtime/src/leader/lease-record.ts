// The Lease's spec as leader election reads and writes it (coordination.k8s.io/v1), and the pure decisions on it.

export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits, which is what the apiserver parses. */
export function formatMicroTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/** The spec to write when `identity` takes or keeps the lease. */
export function acquiredSpec(
  current: LeaseSpec | undefined,
  identity: string,
  leaseDurationSeconds: number,
  now: Date,
) {
  const time = formatMicroTime(now);
  const keeping = current?.holderIdentity === identity;
  return {
    holderIdentity: identity,
    leaseDurationSeconds,
    acquireTime: keeping && current?.acquireTime ? current.acquireTime : time,
    renewTime: time,
    leaseTransitions: (current?.leaseTransitions ?? 0) + (keeping || !current?.holderIdentity ? 0 : 1),
  } satisfies LeaseSpec;
}

/**
 * Whether someone else holds the lease. Expiry is judged on this process's clock from when the record was last seen
 * to change (as client-go does), never from the holder's renewTime, so clock skew between nodes cannot matter.
 */
export function heldByOther(
  spec: LeaseSpec | undefined,
  identity: string,
  observedChangeAtMs: number,
  nowMs: number,
): boolean {
  if (!spec?.holderIdentity || spec.holderIdentity === identity) return false;
  const durationMs = (spec.leaseDurationSeconds ?? 0) * 1000;
  return observedChangeAtMs + durationMs > nowMs;
}

/** A stable fingerprint of a record, to notice when it changed. */
export function recordFingerprint(spec: LeaseSpec | undefined): string {
  return JSON.stringify([
    spec?.holderIdentity ?? "",
    spec?.leaseDurationSeconds ?? 0,
    spec?.acquireTime ?? "",
    spec?.renewTime ?? "",
    spec?.leaseTransitions ?? 0,
  ]);
}
