// The idempotency key of a notification (Capstan). Delivery is at-least-once: a crash while a POST is in flight sends
// it again after the restart, because the mark only advances once a delivery settled. The id lets a receiver drop the
// second copy: it is derived only from what the restarted process derives again identically (the object, the
// transition's reason, message and revision, the time its status gives for it, and the Alert), never from the
// detection time, a counter or a random value.
import { createHash } from "node:crypto";

export interface TransitionFacts {
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
  severity: string;
  reason: string;
  message: string;
  revision?: string;
  /**
   * When the status says the transition happened (a condition's lastTransitionTime, artifact.lastUpdateTime).
   * Without one, `state` (the object's encoded ObservedState after the transition: its watermark position) tells
   * a flap's second failure from its first.
   */
  at?: string;
  state: string;
}

function digest(parts: readonly string[]): Buffer {
  // Length-prefixed, so no two different part lists can be joined into the same input.
  const h = createHash("sha256");
  for (const p of parts) h.update(`${Buffer.byteLength(p)}:${p}\n`);
  return h.digest();
}

/** The object-level identity of a transition: the same event detected again (live or after a restart) gets it again. */
export function transitionKey(f: TransitionFacts): string {
  const when = f.at ? `at=${f.at}` : `state=${f.state}`;
  return digest([
    f.kind,
    f.namespace ?? "",
    f.name,
    f.uid ?? "",
    f.severity,
    f.reason,
    f.message,
    f.revision ?? "",
    when,
  ]).toString("hex");
}

/**
 * The id a provider sees: one transition notified by one Alert. UUID-shaped (RFC 9562 version 8, name-based on
 * SHA-256), since idempotency keys are commonly expected to look like UUIDs.
 */
export function notificationId(alertUid: string, transition: string): string {
  const b = digest(["notification", alertUid, transition]).subarray(0, 16);
  b[6] = ((b[6] as number) & 0x0f) | 0x80;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const hex = b.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
