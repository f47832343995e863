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
