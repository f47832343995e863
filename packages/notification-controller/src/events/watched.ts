// The parts of a watched object (GitRepository, Kustomization, or any kstatus-shaped Flux object) that events are
// derived from.

export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown" | string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

export interface WatchedStatus {
  conditions?: Condition[];
  artifact?: { revision?: string; lastUpdateTime?: string; digest?: string };
  lastAppliedRevision?: string;
  lastAttemptedRevision?: string;
  /** Capstan addition on Kustomization status, when kustomize-controller records it: "Kind/ns/name action" lines. */
  lastAppliedChangeSet?: string | string[];
  [field: string]: unknown;
}

export interface WatchedObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
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
