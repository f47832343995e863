import { Annotations } from "../apis/meta.js";
import type { ApiErrorShape, KubeObject, ObjectRef, ResourceType } from "../contracts.js";
import { parseDuration } from "../flags/duration.js";

export function apiVersionOf(type: ResourceType): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

export function refOf(obj: KubeObject): ObjectRef {
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name: obj.metadata.name,
    ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
  };
}

export function isNotFound(err: unknown): boolean {
  return (err as Partial<ApiErrorShape> | undefined)?.status === 404;
}

function spec(obj: KubeObject): Record<string, unknown> {
  const s = obj.spec;
  return s && typeof s === "object" ? (s as Record<string, unknown>) : {};
}

export function specSuspended(obj: KubeObject): boolean {
  return spec(obj).suspend === true;
}

/** spec.<field> as a Go duration in ms; undefined when absent. Throws (with the field name) when unparseable. */
export function specDuration(obj: KubeObject, field: string): number | undefined {
  const value = spec(obj)[field];
  if (value === undefined || value === null || value === "") return undefined;
  try {
    return parseDuration(String(value));
  } catch (cause) {
    throw new Error(`spec.${field}: ${(cause as Error).message}`, { cause });
  }
}

/** The default of ReconcilerDefinition.shouldEnqueue: spec changed, a reconcile was requested, or deletion began. */
export function specOrRequestChanged(oldObj: KubeObject, newObj: KubeObject): boolean {
  return (
    oldObj.metadata.generation !== newObj.metadata.generation ||
    oldObj.metadata.annotations?.[Annotations.ReconcileRequest] !==
      newObj.metadata.annotations?.[Annotations.ReconcileRequest] ||
    (!oldObj.metadata.deletionTimestamp && Boolean(newObj.metadata.deletionTimestamp))
  );
}

/** `interval` ± `fraction`·interval, uniformly (Flux's --interval-jitter-percentage). */
export function jittered(intervalMs: number, fraction: number, random: () => number = Math.random): number {
  if (fraction <= 0) return intervalMs;
  return Math.max(0, Math.round(intervalMs * (1 + (random() * 2 - 1) * fraction)));
}
