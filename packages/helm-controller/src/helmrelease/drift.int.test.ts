// spec.driftDetection against the real apiserver with the real helm v4: a kubectl-style edit of a released
// Deployment's replicas is corrected (mode enabled) or only reported (mode warn), an ignored path is not drift, a
// deleted object is recreated, and none of it makes a new Helm revision.

import { eventually } from "@capstan/cluster/testing";
import type { KubeObject } from "@capstan/runtime";
import { describe, expect, it } from "vitest";
import { conditionOf, demoChart, fileScenario, type PublishedChart } from "../testing/harness.js";

const s = fileScenario("helm-drift");

const eventType = { group: "", version: "v1", kind: "Event", plural: "events", namespaced: true };
type Ev = KubeObject & { reason?: string; message?: string; type?: string; involvedObject?: { name?: string } };

async function eventsOf(name: string, reason: string): Promise<Ev[]> {
  const { items } = await s.h.client.list<Ev>(eventType, { namespace: s.ns.name });
  return items.filter((e) => e.involvedObject?.name === name && e.reason === reason);
}

type Deployment = KubeObject & { spec: { replicas: number } };
type ConfigMap = KubeObject & { data?: Record<string, string> };

const deployment = (name: string) =>
  s.h.client.get<Deployment>({ apiVersion: "apps/v1", kind: "Deployment", name, namespace: s.ns.name });
const configMap = (name: string) =>
  s.h.client.get<ConfigMap>({ apiVersion: "v1", kind: "ConfigMap", name: `${name}-config`, namespace: s.ns.name });

/** What `kubectl edit`/`kubectl scale` do: an update (not an apply) under kubectl's own field manager. */
async function kubectlEdit(kind: "Deployment" | "ConfigMap", name: string, patch: unknown): Promise<void> {
  await s.h.client.mergePatch(
    { apiVersion: kind === "Deployment" ? "apps/v1" : "v1", kind, name, namespace: s.ns.name },
    patch,
    { fieldManager: "kubectl-edit" },
  );
}

async function requestReconcile(name: string): Promise<void> {
  await s.h.client.mergePatch(
    { apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", name, namespace: s.ns.name },
    { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": new Date().toISOString() } } },
  );
}

async function install(name: string, driftDetection: unknown, chart: PublishedChart): Promise<void> {
  await s.h.helmRelease(name, {
    chartRef: { kind: "HelmChart", name: `chart-${name}` },
    values: { replicaCount: 1, message: "desired" },
    driftDetection,
  });
  await s.h.publish(`chart-${name}`, chart);
  await eventually(
    async () => {
      const hr = await s.h.getHelmRelease(name);
      return conditionOf(hr, "Ready")?.status === "True" && hr?.status?.history?.[0]?.version === 1;
    },
    { timeoutMs: 90_000, what: `${name} Ready at v1` },
  );
}

describe("Given released HelmReleases with drift detection", () => {
  let chart: PublishedChart;

  it("should only report a manual replicas edit in mode warn (DriftDetected), changing nothing", async () => {
    chart = await s.h.chart(demoChart("1.0.0"));
    await install("warned", { mode: "warn" }, chart);
    await kubectlEdit("Deployment", "warned", { spec: { replicas: 3 } });
    await requestReconcile("warned");
    const [event] = await eventually(
      async () => {
        const got = await eventsOf("warned", "DriftDetected");
        return got.length > 0 && got;
      },
      { timeoutMs: 60_000, what: "a DriftDetected Event for warned" },
    );
    expect(event?.type).toBe("Warning");
    expect(event?.message).toBe(
      `Cluster state of release ${s.ns.name}/warned.v1 has drifted from the desired state:\nDeployment/${s.ns.name}/warned changed (0 additions, 1 changes, 0 removals)`,
    );
    expect((await deployment("warned"))?.spec.replicas).toBe(3);
    const hr = await s.h.getHelmRelease("warned");
    expect(conditionOf(hr, "Ready")?.status).toBe("True");
    expect(hr?.status?.history?.map((h) => h.version)).toEqual([1]);
    expect(await eventsOf("warned", "DriftCorrected")).toEqual([]);
  });

  it("should correct a manual replicas edit in mode enabled (DriftCorrected), without a new Helm revision", async () => {
    await install("fixed", { mode: "enabled", ignore: [{ paths: ["/data"], target: { kind: "ConfigMap" } }] }, chart);
    await kubectlEdit("Deployment", "fixed", { spec: { replicas: 3 } });
    await kubectlEdit("ConfigMap", "fixed-config", { data: { message: "edited by hand" } });
    await requestReconcile("fixed");
    await eventually(async () => (await deployment("fixed"))?.spec.replicas === 1, {
      timeoutMs: 60_000,
      what: "fixed's replicas back at 1",
    });
    const [detected] = await eventsOf("fixed", "DriftDetected");
    // The ConfigMap's /data is ignored: not drift, and left as edited.
    expect(detected?.message).toBe(
      `Cluster state of release ${s.ns.name}/fixed.v1 has drifted from the desired state:\nDeployment/${s.ns.name}/fixed changed (0 additions, 1 changes, 0 removals)`,
    );
    const [corrected] = await eventually(
      async () => {
        const got = await eventsOf("fixed", "DriftCorrected");
        return got.length > 0 && got;
      },
      { what: "a DriftCorrected Event for fixed" },
    );
    expect(corrected?.message).toBe(
      `Cluster state of release ${s.ns.name}/fixed.v1 has been corrected:\nDeployment/${s.ns.name}/fixed configured`,
    );
    expect((await configMap("fixed"))?.data?.message).toBe("edited by hand");
    const hr = await s.h.getHelmRelease("fixed");
    expect(conditionOf(hr, "Ready")?.status).toBe("True");
    expect(hr?.status?.history?.map((h) => h.version)).toEqual([1]);
    const { stdout } = await s.h.runHelm(["history", "fixed", "-n", s.ns.name, "-o", "json"]);
    expect((JSON.parse(stdout) as { revision: number }[]).map((h) => h.revision)).toEqual([1]);
  });

  it("should recreate a deleted object of the release in mode enabled", async () => {
    await s.h.client.delete({ apiVersion: "v1", kind: "ConfigMap", name: "fixed-config", namespace: s.ns.name });
    await requestReconcile("fixed");
    const cm = await eventually(async () => (await configMap("fixed")) ?? false, {
      timeoutMs: 60_000,
      what: "fixed-config recreated",
    });
    expect(cm.data?.message).toBe("desired");
    expect(cm.metadata.labels?.["app.kubernetes.io/managed-by"]).toBe("Helm");
    expect(cm.metadata.annotations?.["meta.helm.sh/release-name"]).toBe("fixed");
    const removed = await eventsOf("fixed", "DriftDetected");
    expect(removed.map((e) => e.message)).toContain(
      `Cluster state of release ${s.ns.name}/fixed.v1 has drifted from the desired state:\nConfigMap/${s.ns.name}/fixed-config removed`,
    );
    expect((await s.h.getHelmRelease("fixed"))?.status?.history?.map((h) => h.version)).toEqual([1]);
  });

  it("should find no drift in a release nobody changed by hand", async () => {
    await install("steady", { mode: "warn" }, chart);
    await requestReconcile("steady");
    await eventually(
      async () => {
        const hr = await s.h.getHelmRelease("steady");
        return hr?.status?.lastHandledReconcileAt === hr?.metadata.annotations?.["reconcile.fluxcd.io/requestedAt"];
      },
      { what: "steady reconciled once more" },
    );
    expect(await eventsOf("steady", "DriftDetected")).toEqual([]);
  });
});
