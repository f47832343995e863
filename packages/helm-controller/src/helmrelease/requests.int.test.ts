// Flux's one-off requests with the real helm v4: reconcile.fluxcd.io/forceAt (with the same requestedAt) upgrades a
// release that is in sync; reconcile.fluxcd.io/resetAt resets the failure counters of a release out of retries, so
// the install is attempted again.
import { HelmReleaseConditions, HelmReleaseReasons } from "@capstan/api";
import { eventually } from "@capstan/cluster/testing";
import type { KubeObject } from "@capstan/runtime";
import { describe, expect, it } from "vitest";
import { conditionOf, demoChart, fileScenario, type PublishedChart } from "../testing/harness.js";

const s = fileScenario("helm-requests");

async function annotate(name: string, annotations: Record<string, string>): Promise<void> {
  await s.h.client.mergePatch(
    { apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", name, namespace: s.ns.name },
    { metadata: { annotations } },
  );
}

async function storageSecret(name: string, version: number) {
  return s.h.client.get<KubeObject>({
    apiVersion: "v1",
    kind: "Secret",
    name: `sh.helm.release.v1.${name}.v${version}`,
    namespace: s.ns.name,
  });
}

describe("Given HelmReleases and Flux's force and reset annotations", () => {
  let chart: PublishedChart;

  it("should upgrade a release that is in sync once per forceAt value (the same as requestedAt)", async () => {
    chart = await s.h.chart(demoChart("1.0.0"));
    await s.h.helmRelease("forced", { chartRef: { kind: "HelmChart", name: "chart" }, values: { message: "x" } });
    await s.h.publish("chart", chart);
    await eventually(
      async () => {
        const hr = await s.h.getHelmRelease("forced");
        return conditionOf(hr, "Ready")?.status === "True" && hr?.status?.history?.[0]?.version === 1;
      },
      { what: "forced Ready at v1" },
    );
    // forceAt alone (no matching requestedAt) is not acted on.
    await annotate("forced", { "reconcile.fluxcd.io/forceAt": "t1", "reconcile.fluxcd.io/requestedAt": "r0" });
    await eventually(async () => (await s.h.getHelmRelease("forced"))?.status?.lastHandledReconcileAt === "r0", {
      what: "r0 handled",
    });
    expect((await s.h.getHelmRelease("forced"))?.status?.history?.[0]?.version).toBe(1);
    await annotate("forced", { "reconcile.fluxcd.io/forceAt": "t1", "reconcile.fluxcd.io/requestedAt": "t1" });
    const hr = await eventually(
      async () => {
        const got = await s.h.getHelmRelease("forced");
        return conditionOf(got, "Ready")?.status === "True" && got?.status?.history?.[0]?.version === 2 && got;
      },
      { what: "forced upgraded to v2" },
    );
    expect(hr.status?.lastHandledForceAt).toBe("t1");
    expect(conditionOf(hr, HelmReleaseConditions.Released)?.reason).toBe(HelmReleaseReasons.UpgradeSucceeded);
    expect(hr.status?.history?.map((h) => `${h.version} ${h.status} ${h.chartVersion}`)).toEqual([
      "2 deployed 1.0.0",
      "1 superseded 1.0.0",
    ]);
  });

  it("should attempt an install out of retries again once per resetAt value", async () => {
    await s.h.helmRelease("stuck", {
      chartRef: { kind: "HelmChart", name: "chart" },
      timeout: "5s",
      values: { nodeSelector: { "capstan.dev/no-such-node": "true" } },
    });
    const stalled = await eventually(
      async () => {
        const got = await s.h.getHelmRelease("stuck");
        return conditionOf(got, "Stalled")?.reason === HelmReleaseReasons.RetriesExceeded && got;
      },
      { timeoutMs: 50_000, what: "stuck out of retries" },
    );
    expect(stalled.status?.installFailures).toBe(1);
    const first = await storageSecret("stuck", 1);
    expect(first).toBeDefined();
    await annotate("stuck", { "reconcile.fluxcd.io/resetAt": "x1", "reconcile.fluxcd.io/requestedAt": "x1" });
    // The failed release is uninstalled and installed anew: a new storage Secret for v1, and stalled again.
    const again = await eventually(
      async () => {
        const got = await s.h.getHelmRelease("stuck");
        const secret = await storageSecret("stuck", 1);
        return (
          got?.status?.lastHandledResetAt === "x1" &&
          secret !== undefined &&
          secret.metadata.uid !== first?.metadata.uid &&
          conditionOf(got, "Stalled")?.status === "True" &&
          got
        );
      },
      { timeoutMs: 50_000, what: "stuck installed again after the reset" },
    );
    expect(again.status?.installFailures).toBe(1);
  });
});
