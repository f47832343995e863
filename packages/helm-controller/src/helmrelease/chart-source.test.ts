import { StallingError } from "@capstan/runtime";
import { describe, expect, it } from "vitest";
import { resolveChart } from "./chart-source.js";
import type { HelmReleaseObject } from "./types.js";

const release = (chartRef: Record<string, string>) =>
  ({
    apiVersion: "helm.toolkit.fluxcd.io/v2",
    kind: "HelmRelease",
    metadata: { name: "app", namespace: "team" },
    spec: { interval: "10m", chartRef },
  }) as unknown as HelmReleaseObject;

const options = {
  fieldManager: "helm-controller",
  noCrossNamespaceRefs: false,
  requeueMs: 1000,
  oci: { fetch: () => Promise.reject(new Error("not called")) },
};

describe("Given a HelmRelease whose chartRef names a kind Capstan does not serve", () => {
  it("should stall with InitFailed naming ExternalArtifact and what to use instead, reading nothing", async () => {
    // The client is never reached: the spec alone decides.
    const ctx = {} as Parameters<typeof resolveChart>[0];
    const err = await resolveChart(ctx, release({ kind: "ExternalArtifact", name: "chart" }), options).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StallingError);
    expect((err as StallingError).reason).toBe("InitFailed");
    expect((err as Error).message).toBe(
      "spec.chartRef kind ExternalArtifact is not supported: Capstan serves no ExternalArtifact API (source.toolkit.fluxcd.io/v1) and nothing publishes one; release the chart from a HelmChart (spec.chart or chartRef) or an OCIRepository",
    );
  });
});
