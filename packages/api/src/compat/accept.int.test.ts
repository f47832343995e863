import { rawRequest } from "@capstan/cluster/testing";
import { ApiextensionsV1Api, type V1CustomResourceDefinitionVersion } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { loadCrds } from "../crds.js";
import {
  alertType,
  gitRepositoryType,
  type KindDescriptor,
  kustomizationType,
  ociRepositoryType,
  providerType,
  receiverType,
} from "../kinds.js";
import { ensureCrds } from "../testing/index.js";
import {
  alerts,
  gitRepositories,
  kustomizations,
  ociRepositories,
  providers,
  receivers,
  statusFixtures,
} from "./fixtures.js";
import { useCompatScope } from "./scope.js";

/** A fixture by name; each test creates its own copy under its own name, so no test reads another's objects. */
function fixtureNamed<T extends { metadata: { name?: string } }>(fixtures: T[], name: string): T {
  const found = fixtures.find((f) => f.metadata.name === name);
  if (!found) throw new Error(`no fixture named ${name}`);
  return found;
}
const fresh = { observedGeneration: -1 };

/** [kind, fixture, spec the apiserver stores (fixture plus Flux's defaults), status right after create] */
type Case = readonly [KindDescriptor, { metadata: { name?: string }; spec: object }, object, object | undefined];
const cases: Case[] = [
  ...gitRepositories().map(
    (f) =>
      [
        gitRepositoryType,
        f,
        {
          ...f.spec,
          timeout: f.spec.timeout ?? "60s",
          ...(f.spec.verify ? { verify: { mode: "HEAD", ...f.spec.verify } } : {}),
        },
        fresh,
      ] as const,
  ),
  ...kustomizations().map(
    (f) =>
      [
        kustomizationType,
        f,
        {
          ...f.spec,
          force: f.spec.force ?? false,
          ...(f.spec.postBuild?.substituteFrom
            ? {
                postBuild: {
                  ...f.spec.postBuild,
                  substituteFrom: f.spec.postBuild.substituteFrom.map((s) => ({ optional: false, ...s })),
                },
              }
            : {}),
        },
        fresh,
      ] as const,
  ),
  ...providers().map((f) => [providerType, f, f.spec, undefined] as const),
  ...alerts().map((f) => [alertType, f, { eventSeverity: "info", ...f.spec }, undefined] as const),
  ...receivers().map((f) => [receiverType, f, { interval: "10m", ...f.spec }, fresh] as const),
  ...ociRepositories().map(
    (f) => [ociRepositoryType, f, { provider: "generic", timeout: "60s", ...f.spec }, fresh] as const,
  ),
];

describe("Given Capstan's CRDs on the real apiserver", () => {
  const scope = useCompatScope("api-accept");

  it("should let ensureCrds run again, concurrently, and leave every CRD served as its file declares it", async () => {
    await Promise.all([ensureCrds(scope.kubeconfig), ensureCrds(scope.kubeconfig)]);
    const api = scope.kc.makeApiClient(ApiextensionsV1Api);
    for (const crd of loadCrds()) {
      const got = await api.readCustomResourceDefinition({ name: crd.metadata?.name ?? "" });
      const conditions = Object.fromEntries((got.status?.conditions ?? []).map((c) => [c.type, c.status]));
      expect(conditions).toMatchObject({ Established: "True", NamesAccepted: "True" });
      expect(got.status?.acceptedNames).toMatchObject({ kind: crd.spec.names.kind, plural: crd.spec.names.plural });
      const versions = (v: V1CustomResourceDefinitionVersion[]) => v.map((x) => [x.name, x.served, x.storage]);
      expect(versions(got.spec.versions)).toEqual(versions(crd.spec.versions));
    }
  });

  it.each(cases.map(([t, f, spec, status]) => [`${t.kind} ${f.metadata.name}`, t, f, spec, status] as const))(
    "should accept %s and read it back with Flux's defaults applied",
    async (_, t, fixture, spec, status) => {
      await scope.objects.create(t, fixture);
      const got = await scope.objects.get(t, fixture.metadata.name ?? "");
      expect(got.spec).toEqual(spec);
      expect(got.status).toEqual(status);
    },
  );

  it.each(cases.map(([t, f, spec]) => [`${t.kind} ${f.metadata.name}`, t, f, spec] as const))(
    "should accept %s through server-side apply, as a parent Kustomization applies it from Git",
    async (_, t, fixture, spec) => {
      const name = `${fixture.metadata.name}-applied`;
      const got = await scope.objects.apply(t, { ...fixture, metadata: { name } });
      expect(got.spec).toEqual(spec);
    },
  );

  it("should leave GitRepository ref unset when omitted, as Flux does (the controller then checks out master)", async () => {
    const fixture = fixtureNamed(gitRepositories(), "podinfo");
    expect(fixture.spec).not.toHaveProperty("ref");
    await scope.objects.create(gitRepositoryType, { ...fixture, metadata: { name: "no-ref" } });
    const got = await scope.objects.get(gitRepositoryType, "no-ref");
    expect(got.spec).not.toHaveProperty("ref");
  });

  it.each([
    [gitRepositoryType, fixtureNamed(gitRepositories(), "podinfo-everything"), statusFixtures.GitRepository],
    [kustomizationType, fixtureNamed(kustomizations(), "podinfo-everything"), statusFixtures.Kustomization],
    [receiverType, fixtureNamed(receivers(), "everything"), statusFixtures.Receiver],
    [ociRepositoryType, fixtureNamed(ociRepositories(), "podinfo-oci-everything"), statusFixtures.OCIRepository],
  ] as const)("should store a full %s status written through the status subresource", async (t, fixture, status) => {
    const name = `${fixture.metadata.name}-status`;
    await scope.objects.create(t, { ...fixture, metadata: { name } });
    const got = await scope.objects.applyStatus(t, name, status);
    expect(got.status).toEqual(status);
    expect((await scope.objects.get(t, name)).status).toEqual(status);
  });

  it("should serve gitrepo and ks short names and Flux's categories (plus flux) through discovery", async () => {
    const resources = async (t: KindDescriptor) => {
      const res = await rawRequest(scope.kc, "GET", `/apis/${t.group}/${t.version}`);
      const list = res.json<{ resources: { name: string; shortNames?: string[]; categories?: string[] }[] }>();
      return list.resources.find((r) => r.name === t.plural);
    };
    expect(await resources(gitRepositoryType)).toMatchObject({ shortNames: ["gitrepo"] });
    expect(await resources(kustomizationType)).toMatchObject({ shortNames: ["ks"] });
    const categories = (kindCategory: string) => ["all", "flux", "fluxcd", kindCategory];
    expect((await resources(gitRepositoryType))?.categories).toEqual(categories("fluxcd-sources"));
    expect((await resources(kustomizationType))?.categories).toEqual(categories("fluxcd-appliers"));
    for (const t of [providerType, alertType, receiverType]) {
      expect((await resources(t))?.categories).toEqual(categories("fluxcd-notifications"));
    }
  });

  it.each([
    [gitRepositoryType, gitRepositories()[0], ["Name", "URL", "Age", "Ready", "Status"]],
    [kustomizationType, kustomizations()[0], ["Name", "Age", "Ready", "Status"]],
    [receiverType, receivers()[0], ["Name", "Age", "Ready", "Status"]],
    [providerType, providers()[0], ["Name", "Age"]],
    [alertType, alerts()[0], ["Name", "Age"]],
    [ociRepositoryType, ociRepositories()[0], ["Name", "URL", "Ready", "Status", "Age"]],
  ] as const)("should give kubectl get %s Flux's columns", async (t, fixture, expected) => {
    const name = `${fixture?.metadata.name}-columns`;
    await scope.objects.create(t, { ...fixture, metadata: { name } });
    const res = await rawRequest(
      scope.kc,
      "GET",
      `/apis/${t.group}/${t.version}/namespaces/${scope.ns.name}/${t.plural}/${name}`,
      {
        headers: { accept: "application/json;as=Table;v=v1;g=meta.k8s.io" },
      },
    );
    const table = res.json<{ columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] }>();
    expect(table.columnDefinitions.map((c) => c.name)).toEqual(expected);
    expect(table.rows.map((r) => r.cells[0])).toEqual([name]);
  });

  it("should show the URL and the Ready condition in the GitRepository table", async () => {
    const t = gitRepositoryType;
    const name = "table-url-ready";
    await scope.objects.create(t, { ...fixtureNamed(gitRepositories(), "podinfo-everything"), metadata: { name } });
    await scope.objects.applyStatus(t, name, statusFixtures.GitRepository);
    const res = await rawRequest(
      scope.kc,
      "GET",
      `/apis/${t.group}/${t.version}/namespaces/${scope.ns.name}/${t.plural}/${name}`,
      {
        headers: { accept: "application/json;as=Table;v=v1;g=meta.k8s.io" },
      },
    );
    const [row] = res.json<{ rows: { cells: unknown[] }[] }>().rows;
    const ready = statusFixtures.GitRepository.conditions[0];
    expect(row?.cells).toEqual([
      name,
      "ssh://git@github.com/stefanprodan/podinfo",
      expect.any(String),
      ready.status,
      ready.message,
    ]);
  });
});
