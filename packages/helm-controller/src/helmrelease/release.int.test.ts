// A HelmRelease's life with the real helm v4 against the real apiserver (kwok makes Deployments Available): install,
// an upgrade that touches only the release whose values changed, a failing upgrade remediated by rollback, the real
// helm CLI seeing what status says, and deletion uninstalling the release.
import { HelmReleaseConditions, HelmReleaseReasons } from "@capstan/api";
import { eventually } from "@capstan/cluster/testing";
import { describe, expect, it } from "vitest";
import { conditionOf, demoChart, fileScenario, type PublishedChart } from "../testing/harness.js";

const s = fileScenario("helm-release");

const chartSpec = { chart: { spec: { chart: "demo", sourceRef: { kind: "HelmRepository", name: "repo" } } } };

interface HelmLsEntry {
  name: string;
  revision: string;
  status: string;
  chart: string;
  app_version: string;
}

async function helmLs(): Promise<HelmLsEntry[]> {
  const { stdout } = await s.h.runHelm(["ls", "-n", s.ns.name, "-o", "json"]);
  return JSON.parse(stdout) as HelmLsEntry[];
}

async function helmHistory(name: string): Promise<{ revision: number; status: string; chart: string }[]> {
  const { stdout } = await s.h.runHelm(["history", name, "-n", s.ns.name, "-o", "json"]);
  return JSON.parse(stdout) as { revision: number; status: string; chart: string }[];
}

async function helmValues(name: string): Promise<Record<string, unknown>> {
  const { stdout } = await s.h.runHelm(["get", "values", name, "-n", s.ns.name, "-o", "json"]);
  return JSON.parse(stdout) as Record<string, unknown>;
}

async function readyAtVersion(name: string, version: number) {
  return eventually(
    async () => {
      const hr = await s.h.getHelmRelease(name);
      const ready = conditionOf(hr, "Ready");
      return ready?.status === "True" && hr?.status?.history?.[0]?.version === version && hr;
    },
    { timeoutMs: 90_000, what: `${name} Ready at release v${version}` },
  );
}

describe("Given a HelmRelease of a chart from a HelmChart the controller creates", () => {
  let chart: PublishedChart;

  it("should install it (history v1, Released InstallSucceeded) and create the HelmChart <ns>-<name>", async () => {
    chart = await s.h.chart(demoChart("1.0.0"));
    await s.h.helmRelease("app", { ...chartSpec, values: { replicaCount: 1, message: "dev" } });
    await s.h.helmRelease("other", { ...chartSpec, values: { message: "prod" } });
    // source-controller's part: the HelmCharts the controller created get their artifact.
    for (const name of ["app", "other"]) {
      await eventually(
        () =>
          s.h.client.get({
            apiVersion: "source.toolkit.fluxcd.io/v1",
            kind: "HelmChart",
            name: `${s.ns.name}-${name}`,
            namespace: s.ns.name,
          }),
        {
          what: `HelmChart ${s.ns.name}-${name}`,
        },
      );
      await s.h.publish(`${s.ns.name}-${name}`, chart);
    }
    const hr = await readyAtVersion("app", 1);
    expect(conditionOf(hr, HelmReleaseConditions.Released)).toMatchObject({
      status: "True",
      reason: HelmReleaseReasons.InstallSucceeded,
      message: `Helm install succeeded for release ${s.ns.name}/app.v1 with chart demo@1.0.0`,
    });
    expect(hr.status).toMatchObject({
      helmChart: `${s.ns.name}/${s.ns.name}-app`,
      storageNamespace: s.ns.name,
      lastAttemptedRevision: "1.0.0",
      lastAttemptedRevisionDigest: chart.digest,
      lastAttemptedReleaseAction: "install",
      installFailures: 0,
      observedGeneration: hr.metadata.generation,
    });
    expect(hr.status?.history).toEqual([
      expect.objectContaining({
        name: "app",
        namespace: s.ns.name,
        version: 1,
        status: "deployed",
        chartName: "demo",
        chartVersion: "1.0.0",
        appVersion: "1.0.0-app",
      }),
    ]);
    expect(hr.status?.lastAttemptedConfigDigest).toBe(hr.status?.history?.[0]?.configDigest);
    const deployment = await s.h.client.get<{ spec: { replicas: number } } & import("@capstan/runtime").KubeObject>({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "app",
      namespace: s.ns.name,
    });
    expect(deployment?.spec.replicas).toBe(1);
    await readyAtVersion("other", 1);
  });

  it("should show with the real helm CLI (ls, history, get values) what status says", async () => {
    const ls = await helmLs();
    expect(ls.map((r) => `${r.name} ${r.revision} ${r.status} ${r.chart}`).sort()).toEqual([
      "app 1 deployed demo-1.0.0",
      "other 1 deployed demo-1.0.0",
    ]);
    expect(await helmValues("app")).toEqual({ replicaCount: 1, message: "dev" });
  });

  it("should upgrade only the release whose values changed (v2), leaving the other at v1", async () => {
    await s.h.helmRelease("app", { ...chartSpec, values: { replicaCount: 2, message: "dev" } });
    const hr = await readyAtVersion("app", 2);
    expect(conditionOf(hr, HelmReleaseConditions.Released)?.reason).toBe(HelmReleaseReasons.UpgradeSucceeded);
    expect(hr.status?.history?.map((h) => `${h.version} ${h.status}`)).toEqual(["2 deployed", "1 superseded"]);
    expect((await helmHistory("app")).map((h) => `${h.revision} ${h.status}`)).toEqual(["1 superseded", "2 deployed"]);
    expect(await helmValues("app")).toEqual({ replicaCount: 2, message: "dev" });
    const other = await s.h.getHelmRelease("other");
    expect(other?.status?.history?.map((h) => h.version)).toEqual([1]);
    expect((await helmHistory("other")).map((h) => h.revision)).toEqual([1]);
  });

  it("should roll back an upgrade whose Deployment never becomes Available within the timeout, and say why", async () => {
    await s.h.helmRelease("app", {
      ...chartSpec,
      timeout: "8s",
      values: { replicaCount: 2, message: "dev", nodeSelector: { "capstan.dev/no-such-node": "true" } },
      upgrade: { remediation: { retries: 0, remediateLastFailure: true } },
    });
    const hr = await eventually(
      async () => {
        const got = await s.h.getHelmRelease("app");
        return (
          conditionOf(got, HelmReleaseConditions.Remediated)?.status === "True" &&
          conditionOf(got, "Stalled")?.status === "True" &&
          got
        );
      },
      { timeoutMs: 120_000, what: "app remediated and stalled" },
    );
    expect(conditionOf(hr, HelmReleaseConditions.Released)).toMatchObject({
      status: "False",
      reason: HelmReleaseReasons.UpgradeFailed,
    });
    expect(conditionOf(hr, HelmReleaseConditions.Released)?.message).toContain(
      `Helm upgrade failed for release ${s.ns.name}/app.v3 with chart demo@1.0.0`,
    );
    expect(conditionOf(hr, HelmReleaseConditions.Remediated)).toMatchObject({
      reason: HelmReleaseReasons.RollbackSucceeded,
      message: `Helm rollback to previous release ${s.ns.name}/app.v2 with chart demo@1.0.0 succeeded`,
    });
    expect(conditionOf(hr, "Ready")).toMatchObject({ status: "False", reason: HelmReleaseReasons.RollbackSucceeded });
    expect(conditionOf(hr, "Stalled")).toMatchObject({
      reason: HelmReleaseReasons.RetriesExceeded,
      message: "Failed to upgrade after 1 attempt(s)",
    });
    expect(hr.status?.upgradeFailures).toBe(1);
    expect(hr.status?.history?.map((h) => `${h.version} ${h.status}`)).toEqual([
      "4 deployed",
      "3 failed",
      "2 superseded",
      "1 superseded",
    ]);
    expect((await helmHistory("app")).map((h) => `${h.revision} ${h.status}`)).toEqual([
      "1 superseded",
      "2 superseded",
      "3 failed",
      "4 deployed",
    ]);
    // The rollback restored v2's values.
    expect(await helmValues("app")).toEqual({ replicaCount: 2, message: "dev" });
  });

  it("should upgrade again once the next good spec comes", async () => {
    await s.h.helmRelease("app", { ...chartSpec, values: { replicaCount: 3, message: "dev" } });
    const hr = await readyAtVersion("app", 5);
    expect(conditionOf(hr, HelmReleaseConditions.Remediated)).toBeUndefined();
    expect(conditionOf(hr, "Stalled")).toBeUndefined();
    expect(hr.status?.upgradeFailures).toBe(0);
  });

  it("should uninstall the release and delete its HelmChart when the HelmRelease is deleted", async () => {
    await s.h.client.delete({
      apiVersion: "helm.toolkit.fluxcd.io/v2",
      kind: "HelmRelease",
      name: "app",
      namespace: s.ns.name,
    });
    await eventually(async () => (await s.h.getHelmRelease("app")) === undefined, {
      timeoutMs: 60_000,
      what: "app gone",
    });
    expect((await helmLs()).map((r) => r.name)).toEqual(["other"]);
    const secrets = await s.h.client.list(
      { group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true },
      {
        namespace: s.ns.name,
        labelSelector: "owner=helm,name=app",
      },
    );
    expect(secrets.items).toEqual([]);
    expect(
      await s.h.client.get({ apiVersion: "apps/v1", kind: "Deployment", name: "app", namespace: s.ns.name }),
    ).toBeUndefined();
    expect(
      await s.h.client.get({
        apiVersion: "source.toolkit.fluxcd.io/v1",
        kind: "HelmChart",
        name: `${s.ns.name}-app`,
        namespace: s.ns.name,
      }),
    ).toBeUndefined();
  });
});
