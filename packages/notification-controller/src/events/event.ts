// The event that Flux's notification-controller hands to its notifiers (fluxcd/pkg/apis/event/v1beta1 Event), with the
// metadata keys already stripped of their API-group prefix ("source.toolkit.fluxcd.io/revision" → "revision").
import { createHash } from "node:crypto";
import { Reasons } from "@capstan/runtime";

export type EventSeverity = "info" | "error" | "trace";

export interface InvolvedObject {
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
  apiVersion?: string;
  resourceVersion?: string;
}

export interface FluxEvent {
  involvedObject: InvolvedObject;
  severity: EventSeverity;
  /** RFC 3339, seconds precision, UTC (metav1.Time). */
  timestamp: string;
  message: string;
  reason: string;
  metadata?: Record<string, string>;
  reportingController: string;
  reportingInstance?: string;
  /**
   * Capstan: the notification's idempotency key, the same on every retry and after a restart (events/event-id.ts).
   * Not a field of Flux's event: providers send it as headers (eventIdHeaders), and the generic payload carries it in
   * metadata under eventIdMetadataKey.
   */
  id?: string;
}

/** Capstan: the headers every provider request carries the notification's id in. */
export const EventIdHeader = "X-Capstan-Event-Id";
export const IdempotencyKeyHeader = "Idempotency-Key";
/** Capstan: the key of the id in the generic payload's metadata (added beside Flux's keys, which are unchanged). */
export const eventIdMetadataKey = "notification.capstan.dev/event-id";

/**
 * The id headers for a request, lower-cased as our requests' headers are. Idempotency-Key is quoted as the IETF
 * draft (a Structured Field string) has it; servers that take the raw value still see the same value on every retry.
 */
export function eventIdHeaders(id: string): Record<string, string> {
  return { [EventIdHeader.toLowerCase()]: id, [IdempotencyKeyHeader.toLowerCase()]: `"${id}"` };
}

/**
 * Whether the event says a reconcile is under way (reason Progressing), which providers treat apart as Flux's do: most
 * skip it, gitea shows it as a pending commit status.
 */
export function isProgressing(event: FluxEvent): boolean {
  return event.reason === Reasons.Progressing;
}

export const MetaRevisionKey = "revision";
/**
 * Flux's eventv1.Group: object annotations under this prefix travel with every event about the object (Flux RFC-0008),
 * and the notification-controller strips the prefix before handing the metadata to providers.
 */
export const EventAnnotationPrefix = "event.toolkit.fluxcd.io/";
export const MetaSummaryKey = "summary";

/** metav1.Time marshals to RFC 3339 at second precision in UTC. */
export function fluxTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * JSON with Go's field order and omitempty rules, so a generic webhook receives byte-for-byte what Flux would send
 * (which matters to receivers that verify an HMAC over the body).
 */
export function encodeEvent(event: FluxEvent): string {
  const o = event.involvedObject;
  const involvedObject: Record<string, string> = { kind: o.kind };
  if (o.namespace) involvedObject.namespace = o.namespace;
  involvedObject.name = o.name;
  if (o.uid) involvedObject.uid = o.uid;
  if (o.apiVersion) involvedObject.apiVersion = o.apiVersion;
  if (o.resourceVersion) involvedObject.resourceVersion = o.resourceVersion;
  const out: Record<string, unknown> = {
    involvedObject,
    severity: event.severity,
    timestamp: event.timestamp,
    message: event.message,
    reason: event.reason,
  };
  const metadata = event.id ? { ...event.metadata, [eventIdMetadataKey]: event.id } : event.metadata;
  if (metadata && Object.keys(metadata).length > 0) out.metadata = sortedRecord(metadata);
  out.reportingController = event.reportingController;
  if (event.reportingInstance) out.reportingInstance = event.reportingInstance;
  return JSON.stringify(out);
}

/** Go marshals maps with sorted keys; so do we, which also makes payloads deterministic. */
export function sortedRecord(record: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(record).sort()) out[key] = record[key] as string;
  return out;
}

export function sortedEntries(record: Record<string, string> | undefined): [string, string][] {
  return Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The identity of an event, as Flux computes it for rate limiting: object, message and revision. Two events with the
 * same key within the rate-limit window are the same notification.
 */
export function eventKey(event: FluxEvent): string {
  const comps = [
    "event",
    `name=${event.involvedObject.name}`,
    `namespace=${event.involvedObject.namespace ?? ""}`,
    `kind=${event.involvedObject.kind}`,
    `message=${event.message}`,
  ];
  const revision = event.metadata?.[MetaRevisionKey];
  if (revision !== undefined) comps.push(`revision=${revision}`);
  return createHash("sha256").update(comps.join("/")).digest("hex");
}
