import { describe, expect, it } from "vitest";
import { loadCrds } from "./crds.js";
import {
  alertType,
  allKinds,
  gitRepositoryType,
  helmChartType,
  helmRepositoryType,
  kustomizationType,
  providerType,
  receiverType,
} from "./kinds.js";

const crds = loadCrds();
const crdOf = (kind: string) => {
  const crd = crds.find((c) => c.spec.names.kind === kind);
  if (!crd) throw new Error(`no CRD for ${kind}`);
  return crd;
};
const columns = (kind: string) =>
  (crdOf(kind).spec.versions[0]?.additionalPrinterColumns ?? []).map((c) => `${c.name}=${c.jsonPath}`);

describe("Given the CRDs shipped in crds/", () => {
  it("should define exactly the nine Flux kinds, one served storage version each", () => {
    expect(
      crds.map((c) => `${c.spec.group}/${c.spec.versions.map((v) => v.name).join(",")}/${c.spec.names.kind}`),
    ).toEqual([
      "helm.toolkit.fluxcd.io/v2/HelmRelease",
      "kustomize.toolkit.fluxcd.io/v1/Kustomization",
      "notification.toolkit.fluxcd.io/v1beta3/Alert",
      "notification.toolkit.fluxcd.io/v1beta3/Provider",
      "notification.toolkit.fluxcd.io/v1/Receiver",
      "source.toolkit.fluxcd.io/v1/GitRepository",
      "source.toolkit.fluxcd.io/v1/HelmChart",
      "source.toolkit.fluxcd.io/v1/HelmRepository",
      "source.toolkit.fluxcd.io/v1/OCIRepository",
    ]);
    for (const crd of crds) {
      expect(crd.spec.versions).toEqual([expect.objectContaining({ served: true, storage: true })]);
      expect(crd.spec.scope).toBe("Namespaced");
      expect(crd.metadata?.name).toBe(`${crd.spec.names.plural}.${crd.spec.group}`);
    }
  });

  it.each(allKinds.map((k) => [k.kind, k] as const))("should describe %s exactly as its CRD serves it", (_, desc) => {
    const crd = crdOf(desc.kind);
    expect(desc).toEqual({
      group: crd.spec.group,
      version: crd.spec.versions[0]?.name,
      apiVersion: `${crd.spec.group}/${crd.spec.versions[0]?.name}`,
      kind: crd.spec.names.kind,
      plural: crd.spec.names.plural,
      namespaced: true,
    });
  });

  it("should give the short names and categories kubectl users type", () => {
    expect(crdOf(gitRepositoryType.kind).spec.names.shortNames).toEqual(["gitrepo"]);
    expect(crdOf(kustomizationType.kind).spec.names.shortNames).toEqual(["ks"]);
    expect(crdOf(helmRepositoryType.kind).spec.names.shortNames).toEqual(["helmrepo"]);
    expect(crdOf(helmChartType.kind).spec.names.shortNames).toEqual(["hc"]);
    for (const crd of crds) expect(crd.spec.names.categories).toEqual(expect.arrayContaining(["all", "flux"]));
    expect(crdOf(gitRepositoryType.kind).spec.names.categories).toEqual(
      expect.arrayContaining(["fluxcd", "fluxcd-sources"]),
    );
  });

  it("should print Flux's columns", () => {
    const ready = '.status.conditions[?(@.type=="Ready")]';
    expect(columns(helmRepositoryType.kind)).toEqual(columns(gitRepositoryType.kind));
    expect(columns(helmChartType.kind)).toEqual([
      "Chart=.spec.chart",
      "Version=.spec.version",
      "Source Kind=.spec.sourceRef.kind",
      "Source Name=.spec.sourceRef.name",
      "Age=.metadata.creationTimestamp",
      `Ready=${ready}.status`,
      `Status=${ready}.message`,
    ]);
    expect(columns(gitRepositoryType.kind)).toEqual([
      "URL=.spec.url",
      "Age=.metadata.creationTimestamp",
      `Ready=${ready}.status`,
      `Status=${ready}.message`,
    ]);
    for (const kind of [kustomizationType.kind, receiverType.kind]) {
      expect(columns(kind)).toEqual([
        "Age=.metadata.creationTimestamp",
        `Ready=${ready}.status`,
        `Status=${ready}.message`,
      ]);
    }
    for (const kind of [providerType.kind, alertType.kind]) {
      expect(columns(kind)).toEqual(["Age=.metadata.creationTimestamp"]);
    }
  });

  it("should have a status subresource, defaulting observedGeneration to -1, exactly on the kinds with a status", () => {
    for (const crd of crds) {
      const version = crd.spec.versions[0];
      const status = version?.schema?.openAPIV3Schema?.properties?.status;
      if (crd.spec.names.kind === "Provider" || crd.spec.names.kind === "Alert") {
        expect(status).toBeUndefined();
        // Flux's CRDs write out an empty subresources: no status subresource.
        expect(version?.subresources).toEqual({});
      } else {
        expect((status as { default?: unknown }).default).toEqual({ observedGeneration: -1 });
        expect(version?.subresources).toEqual({ status: {} });
      }
    }
  });
});
