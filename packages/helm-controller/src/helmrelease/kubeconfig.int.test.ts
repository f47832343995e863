// spec.kubeConfig.configMapRef (Flux's kubeconfig through workload identity) with the real apiserver: the runtime's
// shared refusal, as kustomize-controller's: a cloud provider stalls saying it is not supported and what to use
// instead, a missing ConfigMap is retried; nothing is released either way.
import { HelmReleaseReasons } from "@capstan/api";
import { eventually } from "@capstan/cluster/testing";
import { type KubeObject, secretType } from "@capstan/runtime";
import { describe, expect, it } from "vitest";
import { conditionOf, demoChart, fileScenario } from "../testing/harness.js";

const s = fileScenario("helm-kubeconfig");

describe("Given HelmReleases whose kubeConfig names a ConfigMap", () => {
  it("should stall a cloud provider with a clear reason, retry a missing ConfigMap, and release nothing", async () => {
    await s.h.publish("chart", await s.h.chart(demoChart("1.0.0")));
    await s.h.client.apply(
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "eks", namespace: s.ns.name },
        data: { provider: "aws", cluster: "arn:aws:eks:eu-west-1:1:cluster/c" },
      },
      { fieldManager: "test" },
    );
    const chartRef = { kind: "HelmChart", name: "chart" };
    await s.h.helmRelease("eks", { chartRef, kubeConfig: { configMapRef: { name: "eks" } } });
    await s.h.helmRelease("gone", { chartRef, kubeConfig: { configMapRef: { name: "missing" } } });
    const eks = await eventually(
      async () => {
        const hr = await s.h.getHelmRelease("eks");
        return conditionOf(hr, "Stalled")?.status === "True" && hr;
      },
      { what: "eks stalled" },
    );
    expect(conditionOf(eks, "Ready")).toMatchObject({
      status: "False",
      reason: HelmReleaseReasons.InitFailed,
      message: `spec.kubeConfig.configMapRef: ConfigMap/${s.ns.name}/eks: provider 'aws' authenticates through AWS IAM (EKS) workload identity, which needs the cloud provider's credentials exchange: not supported by Capstan; use spec.kubeConfig.secretRef with an inline kubeconfig instead`,
    });
    const gone = await eventually(
      async () => {
        const hr = await s.h.getHelmRelease("gone");
        return conditionOf(hr, "Ready")?.status === "False" && hr;
      },
      { what: "gone not ready" },
    );
    expect(conditionOf(gone, "Ready")?.message).toBe(
      `spec.kubeConfig.configMapRef: ConfigMap/${s.ns.name}/missing not found`,
    );
    expect(conditionOf(gone, "Stalled")).toBeUndefined();
    const { items } = await s.h.client.list<KubeObject>(secretType, {
      namespace: s.ns.name,
      labelSelector: "owner=helm",
    });
    expect(items).toEqual([]);
  });
});
