import {
  createTestNamespace,
  loadKubeConfig,
  rawRequest,
  type TestNamespace,
  testKubeconfigPath,
} from "@capstan/cluster/testing";
// The global setup declares what inject() provides.
import type {} from "@capstan/cluster/vitest-setup";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  alertType,
  gitRepositoryType,
  type KindDescriptor,
  kustomizationType,
  providerType,
  receiverType,
} from "../kinds.js";
import { ensureCrds } from "../testing/index.js";
import { objectsClient } from "./client.js";
import { alerts, gitRepositories, kustomizations, providers, receivers, statusFixtures } from "./fixtures.js";

const kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
const kc = loadKubeConfig(kubeconfig);
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
];

describe("Given Capstan's CRDs on the real apiserver", () => {
  let ns: TestNamespace;
  let objects: ReturnType<typeof objectsClient>;

  beforeAll(async () => {
    await ensureCrds(kubeconfig);
    ns = await createTestNamespace(kc, "api-accept");
    objects = objectsClient(kc, ns.name);
  });
  afterAll(async () => {
    await ns?.delete();
  });

  it("should let ensureCrds run again, concurrently, without error", async () => {
    await expect(Promise.all([ensureCrds(kubeconfig), ensureCrds(kubeconfig)])).resolves.toBeDefined();
  });

  it.each(cases.map(([t, f, spec, status]) => [`${t.kind} ${f.metadata.name}`, t, f, spec, status] as const))(
    "should accept %s and read it back with Flux's defaults applied",
    async (_, t, fixture, spec, status) => {
      await objects.create(t, fixture);
      const got = await objects.get(t, fixture.metadata.name ?? "");
      expect(got.spec).toEqual(spec);
      expect(got.status).toEqual(status);
    },
  );

  it.each(cases.map(([t, f, spec]) => [`${t.kind} ${f.metadata.name}`, t, f, spec] as const))(
    "should accept %s through server-side apply, as a parent Kustomization applies it from Git",
    async (_, t, fixture, spec) => {
      const name = `${fixture.metadata.name}-applied`;
      const got = await objects.apply(t, { ...fixture, metadata: { name } });
      expect(got.spec).toEqual(spec);
    },
  );

  it("should leave GitRepository ref unset when omitted, as Flux does (the controller then checks out master)", async () => {
    const got = await objects.get(gitRepositoryType, "podinfo");
    expect(got.spec).not.toHaveProperty("ref");
  });

  it.each([
    [gitRepositoryType, "podinfo-everything", statusFixtures.GitRepository],
    [kustomizationType, "podinfo-everything", statusFixtures.Kustomization],
    [receiverType, "everything", statusFixtures.Receiver],
  ] as const)("should store a full %s status written through the status subresource", async (t, name, status) => {
    const got = await objects.applyStatus(t, name, status);
    expect(got.status).toEqual(status);
  });

  it("should serve gitrepo and ks short names and Flux's categories (plus flux) through discovery", async () => {
    const resources = async (t: KindDescriptor) => {
      const res = await rawRequest(kc, "GET", `/apis/${t.group}/${t.version}`);
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
    [gitRepositoryType, ["Name", "URL", "Age", "Ready", "Status"]],
    [kustomizationType, ["Name", "Age", "Ready", "Status"]],
    [receiverType, ["Name", "Age", "Ready", "Status"]],
    [providerType, ["Name", "Age"]],
    [alertType, ["Name", "Age"]],
  ] as const)("should give kubectl get %s Flux's columns", async (t, expected) => {
    const res = await rawRequest(kc, "GET", `/apis/${t.group}/${t.version}/namespaces/${ns.name}/${t.plural}`, {
      headers: { accept: "application/json;as=Table;v=v1;g=meta.k8s.io" },
    });
    const table = res.json<{ columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] }>();
    expect(table.columnDefinitions.map((c) => c.name)).toEqual(expected);
    expect(table.rows.length).toBeGreaterThan(0);
  });

  it("should show the URL and the Ready condition in the GitRepository table", async () => {
    const t = gitRepositoryType;
    const res = await rawRequest(
      kc,
      "GET",
      `/apis/${t.group}/${t.version}/namespaces/${ns.name}/${t.plural}/podinfo-everything`,
      {
        headers: { accept: "application/json;as=Table;v=v1;g=meta.k8s.io" },
      },
    );
    const [row] = res.json<{ rows: { cells: unknown[] }[] }>().rows;
    const ready = statusFixtures.GitRepository.conditions[0];
    expect(row?.cells).toEqual([
      "podinfo-everything",
      "ssh://git@github.com/stefanprodan/podinfo",
      expect.any(String),
      ready.status,
      ready.message,
    ]);
  });
});
