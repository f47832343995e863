// A kstatus equivalent (sigs.k8s.io/cli-utils/pkg/kstatus): one status for any object, from its kind's rules for
// built-in workloads or from the generic observedGeneration / Reconciling / Stalled / Ready conditions.
import { Conditions } from "@capstan/runtime";
import type { KubeObject } from "../kube.js";
import { groupOf, isRecord } from "../object.js";

export type Status = "Current" | "InProgress" | "Failed" | "Terminating" | "NotFound" | "Unknown";

export interface StatusResult {
  status: Status;
  message: string;
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

type Fields = Record<string, unknown>;

const num = (v: unknown, fallback = 0): number => (typeof v === "number" ? v : fallback);
const fields = (v: unknown): Fields => (isRecord(v) ? v : {});

function conditionsOf(obj: KubeObject): Condition[] {
  const list = fields(obj.status).conditions;
  if (!Array.isArray(list)) return [];
  return list.filter((c): c is Condition => isRecord(c) && typeof c.type === "string" && typeof c.status === "string");
}

const cond = (obj: KubeObject, type: string) => conditionsOf(obj).find((c) => c.type === type);

const current = (message: string): StatusResult => ({ status: "Current", message });
const inProgress = (message: string): StatusResult => ({ status: "InProgress", message });
const failed = (message: string): StatusResult => ({ status: "Failed", message });

/** Rules every kind shares: a spec change the controller has not seen yet, and the kstatus standard conditions. */
function generic(obj: KubeObject): StatusResult | undefined {
  const status = fields(obj.status);
  const generation = obj.metadata.generation;
  if (typeof status.observedGeneration === "number" && typeof generation === "number") {
    if (status.observedGeneration !== generation) {
      return inProgress(
        `${obj.kind} generation is ${generation}, but latest observed generation is ${status.observedGeneration}`,
      );
    }
  }
  const reconciling = cond(obj, Conditions.Reconciling);
  if (reconciling?.status === "True") return inProgress(reconciling.message ?? reconciling.reason ?? reconciling.type);
  const stalled = cond(obj, Conditions.Stalled);
  if (stalled?.status === "True") return failed(stalled.message ?? stalled.reason ?? stalled.type);
  return undefined;
}

function deployment(obj: KubeObject): StatusResult {
  const spec = fields(obj.spec);
  const st = fields(obj.status);
  const want = num(spec.replicas, 1);
  const progressing = cond(obj, "Progressing");
  if (progressing?.reason === "ProgressDeadlineExceeded") return failed(`Progress deadline exceeded`);
  if (num(st.updatedReplicas) < want) return inProgress(`Updated: ${num(st.updatedReplicas)}/${want}`);
  if (num(st.replicas) > num(st.updatedReplicas)) {
    return inProgress(`Pending termination: ${num(st.replicas) - num(st.updatedReplicas)}`);
  }
  if (num(st.availableReplicas) < num(st.updatedReplicas)) {
    return inProgress(`Available: ${num(st.availableReplicas)}/${num(st.updatedReplicas)}`);
  }
  if (num(st.readyReplicas) < want) return inProgress(`Ready: ${num(st.readyReplicas)}/${want}`);
  if (!(progressing?.status === "True" && progressing.reason === "NewReplicaSetAvailable") && want > 0) {
    return inProgress("ReplicaSet not Available");
  }
  if (cond(obj, "Available")?.status !== "True") return inProgress("Deployment not Available");
  return current(`Deployment is available. Replicas: ${num(st.replicas)}`);
}

function statefulSet(obj: KubeObject): StatusResult {
  const spec = fields(obj.spec);
  const st = fields(obj.status);
  const strategy = fields(spec.updateStrategy);
  if (strategy.type === "OnDelete") return current("StatefulSet is using the OnDelete update strategy");
  const want = num(spec.replicas, 1);
  if (num(st.replicas) < want) return inProgress(`Replicas: ${num(st.replicas)}/${want}`);
  if (num(st.readyReplicas) < want) return inProgress(`Ready: ${num(st.readyReplicas)}/${want}`);
  const partition = num(fields(strategy.rollingUpdate).partition);
  if (partition > 0) {
    const expected = want - partition;
    if (num(st.updatedReplicas) < expected) return inProgress(`updated: ${num(st.updatedReplicas)}/${expected}`);
    return current(`Partitioned roll out complete. updated: ${num(st.updatedReplicas)}/${expected}`);
  }
  if (num(st.currentReplicas) < want) return inProgress(`current: ${num(st.currentReplicas)}/${want}`);
  if (st.updateRevision !== st.currentRevision)
    return inProgress(`Waiting for updated revision ${String(st.updateRevision)}`);
  return current(`All replicas scheduled as expected. Replicas: ${num(st.replicas)}`);
}

function daemonSet(obj: KubeObject): StatusResult {
  const st = fields(obj.status);
  const want = num(st.desiredNumberScheduled, -1);
  if (want < 0) return inProgress("Missing .status.desiredNumberScheduled");
  if (num(st.currentNumberScheduled) < want) return inProgress(`Current: ${num(st.currentNumberScheduled)}/${want}`);
  if (num(st.updatedNumberScheduled) < want) return inProgress(`Updated: ${num(st.updatedNumberScheduled)}/${want}`);
  if (num(st.numberAvailable) < want) return inProgress(`Available: ${num(st.numberAvailable)}/${want}`);
  if (num(st.numberReady) < want) return inProgress(`Ready: ${num(st.numberReady)}/${want}`);
  return current(`All replicas scheduled as expected. Replicas: ${want}`);
}

function replicaSet(obj: KubeObject): StatusResult {
  const st = fields(obj.status);
  const want = num(fields(obj.spec).replicas, 1);
  if (cond(obj, "ReplicaFailure")?.status === "True") return inProgress("Replica Failure condition. Check Pods");
  if (num(st.fullyLabeledReplicas) < want) return inProgress(`Labelled: ${num(st.fullyLabeledReplicas)}/${want}`);
  if (num(st.availableReplicas) < want) return inProgress(`Available: ${num(st.availableReplicas)}/${want}`);
  if (num(st.readyReplicas) < want) return inProgress(`Ready: ${num(st.readyReplicas)}/${want}`);
  return current(`ReplicaSet is available. Replicas: ${want}`);
}

function pod(obj: KubeObject): StatusResult {
  const st = fields(obj.status);
  switch (st.phase) {
    case "Succeeded":
      return current("Pod has completed successfully");
    case "Failed":
      return failed("Pod has failed");
    case "Running":
      if (cond(obj, "Ready")?.status === "True") return current("Pod is Ready");
      break;
  }
  const statuses = Array.isArray(st.containerStatuses) ? st.containerStatuses : [];
  for (const c of statuses) {
    const waiting = fields(fields(fields(c).state).waiting);
    if (waiting.reason === "CrashLoopBackOff")
      return failed(`Pod container ${String(fields(c).name)} is in CrashLoopBackOff`);
  }
  const scheduled = cond(obj, "PodScheduled");
  if (scheduled?.status === "False" && scheduled.reason === "Unschedulable")
    return inProgress("Pod could not be scheduled");
  return inProgress(`Pod phase is ${String(st.phase ?? "unknown")}`);
}

function job(obj: KubeObject): StatusResult {
  if (cond(obj, "Failed")?.status === "True") return failed(`Job Failed. failed: ${num(fields(obj.status).failed)}`);
  if (cond(obj, "Complete")?.status === "True") return current("Job Completed");
  return inProgress("Job in progress");
}

function crd(obj: KubeObject): StatusResult {
  const names = cond(obj, "NamesAccepted");
  if (names?.status === "False") return failed(names.message ?? "CRD names not accepted");
  if (cond(obj, "Established")?.status === "True") return current("CRD is established");
  return inProgress("CRD is not established");
}

function service(obj: KubeObject): StatusResult {
  const spec = fields(obj.spec);
  if (spec.type === "LoadBalancer") {
    const ingress = fields(fields(obj.status).loadBalancer).ingress;
    if (!Array.isArray(ingress) || ingress.length === 0) return inProgress("Waiting for the load balancer's address");
  }
  return current("Service is ready");
}

function phase(expected: string, what: string) {
  return (obj: KubeObject): StatusResult => {
    const p = fields(obj.status).phase;
    return p === expected
      ? current(`${what} is ${expected}`)
      : inProgress(`${what} phase is ${String(p ?? "unknown")}`);
  };
}

function pdb(obj: KubeObject): StatusResult {
  const st = fields(obj.status);
  if (num(st.currentHealthy) < num(st.desiredHealthy)) {
    return inProgress(`Budget not met. healthy replicas: ${num(st.currentHealthy)}/${num(st.desiredHealthy)}`);
  }
  return current("Budget is met");
}

/** Objects with a Ready condition (Flux's own kinds and most operators) once the generic rules pass. */
function readyCondition(obj: KubeObject): StatusResult {
  const ready = cond(obj, Conditions.Ready);
  if (!ready) return current("Resource is current");
  if (ready.status === "True") return current(ready.message ?? "Resource is Ready");
  return inProgress(ready.message ?? `Ready is ${ready.status}`);
}

const byKind: Record<string, (obj: KubeObject) => StatusResult> = {
  "apps/Deployment": deployment,
  "apps/StatefulSet": statefulSet,
  "apps/DaemonSet": daemonSet,
  "apps/ReplicaSet": replicaSet,
  "/Pod": pod,
  "batch/Job": job,
  "/PersistentVolumeClaim": phase("Bound", "PVC"),
  "/Namespace": phase("Active", "Namespace"),
  "/Service": service,
  "apiextensions.k8s.io/CustomResourceDefinition": crd,
  "policy/PodDisruptionBudget": pdb,
};

/** The status of a live object; undefined means it does not exist. */
export function computeStatus(obj: KubeObject | undefined): StatusResult {
  if (!obj) return { status: "NotFound", message: "Resource not found" };
  if (obj.metadata.deletionTimestamp) return { status: "Terminating", message: "Resource scheduled for deletion" };
  const g = generic(obj);
  if (g) return g;
  const rule = byKind[`${groupOf(obj.apiVersion)}/${obj.kind}`];
  return rule ? rule(obj) : readyCondition(obj);
}
