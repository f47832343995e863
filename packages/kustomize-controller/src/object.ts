// Small helpers over Kubernetes objects as JSON, shared by build/, apply/, inventory/ and health/.
import type { KubeObject } from "./kube.js";

export type { KubeObject };

export function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf("/");
  return i < 0 ? "" : apiVersion.slice(0, i);
}

/** `group/Kind` (`apps/Deployment`, `/ConfigMap`): a kind whatever its version, as one drift informer watches it. */
export type GroupKind = string;

export function groupKindOf(group: string, kind: string): GroupKind {
  return `${group}/${kind}`;
}

export function versionOf(apiVersion: string): string {
  const i = apiVersion.indexOf("/");
  return i < 0 ? apiVersion : apiVersion.slice(i + 1);
}

/** `Kind/namespace/name` or `Kind/name`, the subject format of Flux's change sets and error messages. */
export function fmtObject(obj: { kind: string; metadata: { name: string; namespace?: string } }): string {
  const ns = obj.metadata.namespace;
  return ns ? `${obj.kind}/${ns}/${obj.metadata.name}` : `${obj.kind}/${obj.metadata.name}`;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** True when any key=value of selector is among the object's labels or annotations (Flux's AnyInMetadata). */
export function anyInMetadata(obj: KubeObject | undefined, selector: Record<string, string>): boolean {
  if (!obj) return false;
  const labels = obj.metadata.labels ?? {};
  const annotations = obj.metadata.annotations ?? {};
  return Object.entries(selector).some(([k, v]) => labels[k] === v || annotations[k] === v);
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}
