// HelmRepository and HelmChart manifests as Flux's documentation writes them, on the real apiserver: accepted with
// Flux's defaults applied, and refused where Flux's CRDs refuse them.
import { describe, expect, it } from "vitest";
import { helmChartType, helmRepositoryType } from "../kinds.js";
import { rejectionMessage } from "./client.js";
import { useCompatScope } from "./scope.js";

const podinfoRepo = {
  apiVersion: "source.toolkit.fluxcd.io/v1",
  kind: "HelmRepository",
  metadata: { name: "podinfo" },
  spec: { interval: "5m0s", url: "https://stefanprodan.github.io/podinfo" },
};

const podinfoChart = {
  apiVersion: "source.toolkit.fluxcd.io/v1",
  kind: "HelmChart",
  metadata: { name: "podinfo" },
  spec: { chart: "podinfo", interval: "5m0s", sourceRef: { kind: "HelmRepository", name: "podinfo" } },
};

describe("Given Flux's HelmRepository and HelmChart manifests on the real apiserver", () => {
  const scope = useCompatScope("api-helm");

  it("should accept them and apply Flux's defaults (provider generic; version *, reconcileStrategy ChartVersion)", async () => {
    await scope.objects.create(helmRepositoryType, podinfoRepo);
    await scope.objects.create(helmChartType, podinfoChart);
    expect((await scope.objects.get(helmRepositoryType, "podinfo")).spec).toEqual({
      ...podinfoRepo.spec,
      provider: "generic",
    });
    expect((await scope.objects.get(helmChartType, "podinfo")).spec).toEqual({
      ...podinfoChart.spec,
      version: "*",
      reconcileStrategy: "ChartVersion",
    });
    expect((await scope.objects.get(helmChartType, "podinfo")).status).toEqual({ observedGeneration: -1 });
  });

  it.each([
    [
      "a URL that is not http(s) or oci",
      helmRepositoryType,
      { ...podinfoRepo, metadata: { name: "ftp" }, spec: { url: "ftp://example.com/charts" } },
      /spec.url/,
    ],
    [
      "an unknown type",
      helmRepositoryType,
      { ...podinfoRepo, metadata: { name: "svn" }, spec: { ...podinfoRepo.spec, type: "svn" } },
      /spec.type/,
    ],
    [
      "verify with a GitRepository source",
      helmChartType,
      {
        ...podinfoChart,
        metadata: { name: "verified-git" },
        spec: { ...podinfoChart.spec, sourceRef: { kind: "GitRepository", name: "x" }, verify: { provider: "cosign" } },
      },
      /spec.verify is only supported when spec.sourceRef.kind is 'HelmRepository'/,
    ],
    [
      "an unknown reconcileStrategy",
      helmChartType,
      { ...podinfoChart, metadata: { name: "strategy" }, spec: { ...podinfoChart.spec, reconcileStrategy: "Always" } },
      /spec.reconcileStrategy/,
    ],
  ] as const)("should refuse %s", async (_, t, body, message) => {
    expect(await rejectionMessage(scope.objects.create(t, body))).toMatch(message);
  });
});
