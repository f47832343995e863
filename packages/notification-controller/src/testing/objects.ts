import type { Condition } from "@capstan/api";
import type { WatchedObject } from "../events/watched.js";

export const T0 = "2024-03-01T10:00:00Z";

/** What a test says of a condition; `status` is a plain string so that tables of cases need no casts. */
export type ConditionFields = Partial<Omit<Condition, "status">> & { status?: string };

/** A condition as the apiserver keeps it: reason and message default to empty, as a Go controller leaves them unset. */
function condition(type: string, fields: ConditionFields): Condition {
  return {
    type,
    reason: "",
    message: "",
    lastTransitionTime: T0,
    ...fields,
    status: (fields.status ?? "True") as Condition["status"],
  };
}

export function gitRepo(
  name: string,
  status: {
    revision?: string;
    ready?: ConditionFields;
    stalled?: ConditionFields;
    reconciling?: ConditionFields;
  } = {},
  labels?: Record<string, string>,
): WatchedObject {
  const conditions: Condition[] = [];
  if (status.ready) conditions.push(condition("Ready", status.ready));
  if (status.stalled) conditions.push(condition("Stalled", status.stalled));
  if (status.reconciling) conditions.push(condition("Reconciling", status.reconciling));
  return {
    apiVersion: "source.toolkit.fluxcd.io/v1",
    kind: "GitRepository",
    metadata: { name, namespace: "flux-system", uid: `uid-${name}`, ...(labels ? { labels } : {}) },
    status: {
      conditions,
      ...(status.revision
        ? {
            artifact: {
              path: `gitrepository/flux-system/${name}/latest.tar.gz`,
              url: `http://source-controller/gitrepository/flux-system/${name}/latest.tar.gz`,
              revision: status.revision,
              digest: `sha256:${"0".repeat(64)}`,
              lastUpdateTime: T0,
            },
          }
        : {}),
    },
  };
}

export function rev(n: number): string {
  return `main@sha1:${n.toString(16).padStart(40, "0")}`;
}
