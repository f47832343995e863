// The result of applying or deleting a set of objects, in Flux's wording (`Deployment/apps/web configured`).
import type { KubeObject } from "../kube.js";
import { fmtObject, versionOf } from "../object.js";

export type Action = "created" | "configured" | "unchanged" | "deleted" | "skipped" | "unknown";

export interface ChangeSetEntry {
  /** `Kind/namespace/name`. */
  subject: string;
  action: Action;
  object: KubeObject;
  version: string;
  /**
   * (Capstan) The object as this apply left it: the uid and generation the write returned (created, configured) or
   * the live object had (unchanged). The health check trusts the drift watch's copy of the object only once the
   * watch has seen this generation of this uid.
   */
  live?: LiveVersion;
}

export interface LiveVersion {
  uid: string;
  /** Absent for kinds without one (Service, ServiceAccount...): the resourceVersion decides then. */
  generation?: number;
  resourceVersion?: string;
}

export function liveVersionOf(obj: KubeObject | undefined): LiveVersion | undefined {
  const uid = obj?.metadata.uid;
  if (!uid) return undefined;
  const { generation, resourceVersion } = obj.metadata;
  return {
    uid,
    ...(typeof generation === "number" ? { generation } : {}),
    ...(resourceVersion ? { resourceVersion } : {}),
  };
}

export function entry(object: KubeObject, action: Action): ChangeSetEntry {
  return { subject: fmtObject(object), action, object, version: versionOf(object.apiVersion) };
}

export function hasChanged(action: Action): boolean {
  return action === "created" || action === "configured" || action === "deleted";
}

/** One line per changed object: the message of the Event Flux emits after an apply or a prune. */
export function changeLog(entries: readonly ChangeSetEntry[]): string {
  return entries
    .filter((e) => hasChanged(e.action))
    .map((e) => `${e.subject} ${e.action}`)
    .join("\n");
}
