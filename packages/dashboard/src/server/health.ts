// kstatus-style health of an applied object, computed from what the apiserver returns for it: the same questions
// kustomize-controller's health checks ask (generation observed, replicas updated and available, Ready condition).

import { Conditions } from "@capstan/runtime";
import type { Health } from "../shared/types.js";
import { clip, condition, type Obj } from "./model.js";

export interface HealthResult {
  health: Health;
  message: string;
}

const num = (v: unknown): number => (typeof v === "number" ? v : 0);

export function healthOf(obj: Obj): HealthResult {
  if (obj.metadata.deletionTimestamp) return { health: "Terminating", message: "being deleted" };
  const status = obj.status ?? {};
  const generation = obj.metadata.generation;
  const observed = status.observedGeneration;
  if (typeof generation === "number" && typeof observed === "number" && observed < generation) {
    return { health: "InProgress", message: `generation ${generation} not yet observed (${observed})` };
  }
  const stalled = condition(obj, Conditions.Stalled);
  if (stalled?.status === "True") return { health: "Failed", message: clip(stalled.message) };
  const byKind = kindHealth[obj.kind];
  if (byKind) return byKind(obj, status, obj.spec ?? {});
  const ready = condition(obj, Conditions.Ready);
  if (ready?.status === "True") return { health: "Current", message: clip(ready.message) };
  if (ready) return { health: "InProgress", message: clip(ready.message) };
  return { health: "Current", message: "" };
}

type Fields = Record<string, unknown>;

function replicated(obj: Obj, status: Fields, spec: Fields): HealthResult {
  const want = typeof spec.replicas === "number" ? spec.replicas : 1;
  const progressing = condition(obj, "Progressing");
  if (progressing?.status === "False" && progressing.reason === "ProgressDeadlineExceeded") {
    return { health: "Failed", message: clip(progressing.message) };
  }
  const updated = num(status.updatedReplicas);
  const ready = num(obj.kind === "Deployment" ? status.availableReplicas : status.readyReplicas);
  if (updated < want) return { health: "InProgress", message: `${updated}/${want} replicas updated` };
  if (ready < want) return { health: "InProgress", message: `${ready}/${want} replicas ready` };
  return { health: "Current", message: `${ready}/${want} replicas ready` };
}

const kindHealth: Record<string, (obj: Obj, status: Fields, spec: Fields) => HealthResult> = {
  Deployment: replicated,
  StatefulSet: replicated,
  DaemonSet: (_, status) => {
    const want = num(status.desiredNumberScheduled);
    const ready = num(status.numberAvailable);
    return { health: ready < want ? "InProgress" : "Current", message: `${ready}/${want} pods available` };
  },
  Pod: (obj, status) => {
    const phase = clip(status.phase, 32);
    if (phase === "Failed") return { health: "Failed", message: "pod failed" };
    if (phase === "Succeeded") return { health: "Current", message: "pod succeeded" };
    if (condition(obj, Conditions.Ready)?.status === "True") return { health: "Current", message: "pod ready" };
    return { health: "InProgress", message: `pod ${phase || "pending"}` };
  },
  Job: (obj) => {
    if (condition(obj, "Failed")?.status === "True") return { health: "Failed", message: "job failed" };
    if (condition(obj, "Complete")?.status === "True") return { health: "Current", message: "job complete" };
    return { health: "InProgress", message: "job running" };
  },
  PersistentVolumeClaim: (_, status) =>
    status.phase === "Bound"
      ? { health: "Current", message: "bound" }
      : { health: "InProgress", message: `claim ${clip(status.phase, 32) || "pending"}` },
};

/**
 * `<ns>_<name>_<group>_<kind>` (Flux's inventory id, from cli-utils): namespace, group and kind hold no "_"; a name
 * may, and a ":" in a name (RBAC) is written "__".
 */
export function parseInventoryId(
  id: string,
): { namespace: string; name: string; group: string; kind: string } | undefined {
  const parts = id.split("_");
  if (parts.length < 4) return undefined;
  const namespace = parts[0] ?? "";
  const kind = parts[parts.length - 1] ?? "";
  const group = parts[parts.length - 2] ?? "";
  const name = parts.slice(1, -2).join("_").replaceAll("__", ":");
  if (!name || !kind) return undefined;
  return { namespace, name, group, kind };
}
