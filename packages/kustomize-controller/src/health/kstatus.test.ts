import { describe, expect, it } from "vitest";
import type { KubeObject } from "../kube.js";
import { computeStatus, type Status } from "./kstatus.js";

const o = (apiVersion: string, kind: string, rest: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) =>
  ({ apiVersion, kind, metadata: { name: "x", namespace: "n", generation: 1, ...meta }, ...rest }) as KubeObject;
const c = (type: string, status: string, reason = "") => ({ type, status, reason });

const availableDeployment = {
  spec: { replicas: 2 },
  status: {
    observedGeneration: 1,
    replicas: 2,
    updatedReplicas: 2,
    readyReplicas: 2,
    availableReplicas: 2,
    conditions: [c("Progressing", "True", "NewReplicaSetAvailable"), c("Available", "True")],
  },
};

describe("computeStatus", () => {
  it.each<[string, KubeObject | undefined, Status]>([
    ["missing object", undefined, "NotFound"],
    ["deleting object", o("v1", "ConfigMap", {}, { deletionTimestamp: "2024-01-01T00:00:00Z" }), "Terminating"],
    ["ConfigMap", o("v1", "ConfigMap", { data: {} }), "Current"],
    ["available Deployment", o("apps/v1", "Deployment", availableDeployment), "Current"],
    [
      "Deployment with unobserved generation",
      o("apps/v1", "Deployment", availableDeployment, { generation: 2 }),
      "InProgress",
    ],
    [
      "Deployment rolling out",
      o("apps/v1", "Deployment", {
        spec: { replicas: 2 },
        status: { ...availableDeployment.status, updatedReplicas: 1 },
      }),
      "InProgress",
    ],
    [
      "Deployment not ready",
      o("apps/v1", "Deployment", {
        spec: { replicas: 2 },
        status: { ...availableDeployment.status, readyReplicas: 0 },
      }),
      "InProgress",
    ],
    [
      "Deployment past its deadline",
      o("apps/v1", "Deployment", {
        spec: { replicas: 1 },
        status: { observedGeneration: 1, conditions: [c("Progressing", "False", "ProgressDeadlineExceeded")] },
      }),
      "Failed",
    ],
    [
      "StatefulSet current",
      o("apps/v1", "StatefulSet", {
        spec: { replicas: 1 },
        status: {
          observedGeneration: 1,
          replicas: 1,
          readyReplicas: 1,
          currentReplicas: 1,
          currentRevision: "a",
          updateRevision: "a",
        },
      }),
      "Current",
    ],
    [
      "StatefulSet mid-update",
      o("apps/v1", "StatefulSet", {
        spec: { replicas: 1 },
        status: {
          observedGeneration: 1,
          replicas: 1,
          readyReplicas: 1,
          currentReplicas: 1,
          currentRevision: "a",
          updateRevision: "b",
        },
      }),
      "InProgress",
    ],
    [
      "DaemonSet current",
      o("apps/v1", "DaemonSet", {
        status: {
          observedGeneration: 1,
          desiredNumberScheduled: 2,
          currentNumberScheduled: 2,
          updatedNumberScheduled: 2,
          numberAvailable: 2,
          numberReady: 2,
        },
      }),
      "Current",
    ],
    [
      "DaemonSet scheduling",
      o("apps/v1", "DaemonSet", {
        status: { observedGeneration: 1, desiredNumberScheduled: 2, currentNumberScheduled: 1 },
      }),
      "InProgress",
    ],
    [
      "ReplicaSet current",
      o("apps/v1", "ReplicaSet", {
        spec: { replicas: 1 },
        status: { observedGeneration: 1, fullyLabeledReplicas: 1, availableReplicas: 1, readyReplicas: 1 },
      }),
      "Current",
    ],
    [
      "Pod running and ready",
      o("v1", "Pod", { status: { phase: "Running", conditions: [c("Ready", "True")] } }),
      "Current",
    ],
    ["Pod pending", o("v1", "Pod", { status: { phase: "Pending" } }), "InProgress"],
    ["Pod succeeded", o("v1", "Pod", { status: { phase: "Succeeded" } }), "Current"],
    ["Pod failed", o("v1", "Pod", { status: { phase: "Failed" } }), "Failed"],
    [
      "Pod crash looping",
      o("v1", "Pod", {
        status: {
          phase: "Running",
          containerStatuses: [{ name: "a", state: { waiting: { reason: "CrashLoopBackOff" } } }],
        },
      }),
      "Failed",
    ],
    ["Job complete", o("batch/v1", "Job", { status: { conditions: [c("Complete", "True")] } }), "Current"],
    ["Job failed", o("batch/v1", "Job", { status: { conditions: [c("Failed", "True")] } }), "Failed"],
    ["Job running", o("batch/v1", "Job", { status: { active: 1 } }), "InProgress"],
    ["PVC bound", o("v1", "PersistentVolumeClaim", { status: { phase: "Bound" } }), "Current"],
    ["PVC pending", o("v1", "PersistentVolumeClaim", { status: { phase: "Pending" } }), "InProgress"],
    ["ClusterIP Service", o("v1", "Service", { spec: { type: "ClusterIP" } }), "Current"],
    ["LoadBalancer without address", o("v1", "Service", { spec: { type: "LoadBalancer" }, status: {} }), "InProgress"],
    [
      "LoadBalancer with address",
      o("v1", "Service", {
        spec: { type: "LoadBalancer" },
        status: { loadBalancer: { ingress: [{ ip: "1.2.3.4" }] } },
      }),
      "Current",
    ],
    [
      "established CRD",
      o("apiextensions.k8s.io/v1", "CustomResourceDefinition", { status: { conditions: [c("Established", "True")] } }),
      "Current",
    ],
    ["CRD not established", o("apiextensions.k8s.io/v1", "CustomResourceDefinition", { status: {} }), "InProgress"],
    [
      "CRD with rejected names",
      o("apiextensions.k8s.io/v1", "CustomResourceDefinition", {
        status: { conditions: [c("NamesAccepted", "False")] },
      }),
      "Failed",
    ],
    ["active Namespace", o("v1", "Namespace", { status: { phase: "Active" } }), "Current"],
    [
      "Ready custom resource",
      o("kustomize.toolkit.fluxcd.io/v1", "Kustomization", {
        status: { observedGeneration: 1, conditions: [c("Ready", "True")] },
      }),
      "Current",
    ],
    [
      "not Ready custom resource",
      o("kustomize.toolkit.fluxcd.io/v1", "Kustomization", {
        status: { observedGeneration: 1, conditions: [c("Ready", "False")] },
      }),
      "InProgress",
    ],
    [
      "stalled custom resource",
      o("example.com/v1", "Widget", { status: { conditions: [c("Stalled", "True"), c("Ready", "False")] } }),
      "Failed",
    ],
    [
      "reconciling custom resource",
      o("example.com/v1", "Widget", { status: { conditions: [c("Reconciling", "True")] } }),
      "InProgress",
    ],
    ["custom resource without status", o("example.com/v1", "Widget", {}), "Current"],
  ])("Given %s, should be %s", (_what, obj, expected) => {
    expect(computeStatus(obj).status).toBe(expected);
  });
});
