// The watched objects (the kinds Alerts may select that Capstan serves: events/sources.ts), in the API's generated
// types: events are derived from their status.
import type { Condition, GitRepositoryStatus, KustomizationStatus } from "@capstan/api";
import type { KubeObject } from "@capstan/runtime";

/** The status fields events are derived from, whichever watched kind carries them. */
export type WatchedStatus = GitRepositoryStatus &
  KustomizationStatus & {
    /**
     * (Capstan) "Kind/ns/name action" lines of the last apply, when kustomize-controller records them. Not in the
     * Kustomization CRD yet, so the apiserver does not keep it today; transitions use it when present.
     */
    lastAppliedChangeSet?: string | string[];
  };

export interface WatchedObject extends KubeObject {
  status?: WatchedStatus;
}

export function findCondition(obj: WatchedObject, type: string): Condition | undefined {
  return obj.status?.conditions?.find((c) => c.type === type);
}

/** The Flux controller that owns a kind: events carry it as reportingController, as Flux's own events do. */
export function reportingControllerFor(apiVersion: string): string {
  const group = apiVersion.split("/")[0] ?? "";
  if (group.startsWith("source.")) return "source-controller";
  if (group.startsWith("kustomize.")) return "kustomize-controller";
  if (group.startsWith("helm.")) return "helm-controller";
  if (group.startsWith("image.")) return "image-reflector-controller";
  if (group.startsWith("notification.")) return "notification-controller";
  return group || "unknown";
}
