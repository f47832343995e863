import type { Condition, WatchedObject } from "../events/watched.js";

export const T0 = "2024-03-01T10:00:00Z";

export function gitRepo(
  name: string,
  status: {
    revision?: string;
    ready?: Partial<Condition>;
    stalled?: Partial<Condition>;
    reconciling?: Partial<Condition>;
  } = {},
  labels?: Record<string, string>,
): WatchedObject {
  const conditions: Condition[] = [];
  if (status.ready) conditions.push({ type: "Ready", status: "True", lastTransitionTime: T0, ...status.ready });
  if (status.stalled) conditions.push({ type: "Stalled", status: "True", lastTransitionTime: T0, ...status.stalled });
  if (status.reconciling) {
    conditions.push({ type: "Reconciling", status: "True", lastTransitionTime: T0, ...status.reconciling });
  }
  return {
    apiVersion: "source.toolkit.fluxcd.io/v1",
    kind: "GitRepository",
    metadata: { name, namespace: "flux-system", uid: `uid-${name}`, ...(labels ? { labels } : {}) },
    status: {
      conditions,
      ...(status.revision ? { artifact: { revision: status.revision, lastUpdateTime: T0 } } : {}),
    },
  };
}

export function rev(n: number): string {
  return `main@sha1:${n.toString(16).padStart(40, "0")}`;
}
