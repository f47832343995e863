// The core/v1 Event a recorder writes, and the keys that decide when two events are "the same" (aggregation) and
// whose budget an event spends (spam filter). Pure, so the rules are testable on their own.
import type { KubeObject } from "../contracts.js";

export type EventType = "Normal" | "Warning";

export interface EventSource {
  controller: string;
  instance: string;
}

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

// The apiserver refuses longer messages on newer Event APIs; client-go truncates at the same length.
const maxMessageLength = 1024;

export function involvedObjectOf(obj: KubeObject): InvolvedObject {
  const m = obj.metadata;
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name: m.name,
    ...(m.namespace ? { namespace: m.namespace } : {}),
    ...(m.uid ? { uid: m.uid } : {}),
    ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
  };
}

/** Events about cluster-scoped objects live in "default", as client-go's recorder puts them. */
export function eventNamespace(involved: InvolvedObject): string {
  return involved.namespace || "default";
}

export function truncateMessage(message: string): string {
  return message.length > maxMessageLength ? `${message.slice(0, maxMessageLength - 3)}...` : message;
}

/** What one Event says and about whom: the arguments the aggregation key and a new Event are made of. */
type EventParts = [
  source: EventSource,
  involved: InvolvedObject,
  type: EventType,
  reason: string,
  message: string,
  annotations: Record<string, string> | undefined,
];

/**
 * Events with equal keys are one Event whose count grows. The resourceVersion is left out (every status write
 * changes it); annotations are in (a new revision is news, not a repeat).
 */
export function aggregationKey(...[source, involved, type, reason, message, annotations]: EventParts): string {
  const sortedAnnotations = Object.entries(annotations ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify([...objectKeyParts(source, involved), type, reason, message, sortedAnnotations]);
}

/** Every event about one object from one controller draws from the same spam budget. */
export function spamKey(source: EventSource, involved: InvolvedObject): string {
  return JSON.stringify(objectKeyParts(source, involved));
}

/** One controller instance and one object: the part both keys share. */
function objectKeyParts(source: EventSource, involved: InvolvedObject): unknown[] {
  return [
    source.controller,
    source.instance,
    involved.apiVersion,
    involved.kind,
    involved.namespace ?? "",
    involved.name,
    involved.uid ?? "",
  ];
}

export function newEvent(
  ...[source, involved, type, reason, message, annotations, now]: [...EventParts, now: Date]
): KubeObject {
  const timestamp = now.toISOString().replace(/\.\d{3}Z$/, "Z");
  // client-go names Events <object>.<hex nanoseconds>: unique enough, and sorted by time in listings.
  const nanos = BigInt(now.getTime()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000));
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: {
      name: `${involved.name}.${nanos.toString(16)}`,
      namespace: eventNamespace(involved),
      ...(annotations && Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}),
    },
    involvedObject: involved,
    type,
    reason,
    message: truncateMessage(message),
    source: { component: source.controller },
    reportingComponent: source.controller,
    reportingInstance: source.instance,
    firstTimestamp: timestamp,
    lastTimestamp: timestamp,
    count: 1,
  };
}
