import { ApiextensionsV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, Watch } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createTestNamespace, eventually, loadKubeConfig, type TestNamespace, testKubeconfigPath } from "./testing.js";

const group = "widgets.capstan.test";
const crd = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: `widgets.${group}` },
  spec: {
    group,
    scope: "Namespaced",
    names: { plural: "widgets", singular: "widget", kind: "Widget", shortNames: ["wd"] },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: {
              spec: {
                type: "object",
                required: ["size"],
                properties: { size: { type: "integer", minimum: 1, maximum: 10 } },
              },
              status: { type: "object", properties: { phase: { type: "string" } } },
            },
          },
        },
      },
    ],
  },
};

describe("Given the real control plane", () => {
  const kc = loadKubeConfig(testKubeconfigPath(inject("capstanKubeconfig")));
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const objects = kc.makeApiClient(CustomObjectsApi);
  let ns: TestNamespace;

  beforeAll(async () => {
    ns = await createTestNamespace(kc, "crd");
    await ext.createCustomResourceDefinition({ body: crd });
  });
  afterAll(async () => {
    await ns.delete();
    await ext.deleteCustomResourceDefinition({ name: crd.metadata.name });
  });

  it("should establish the CRD, create an object, patch its status with SSA and watch each change in order", async () => {
    await eventually(
      async () => {
        const got = await ext.readCustomResourceDefinition({ name: crd.metadata.name });
        return got.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
      },
      { what: "CRD Established" },
    );

    // Established can come a moment before the new resource is served; a list answers once it is.
    const base = { group, version: "v1", namespace: ns.name, plural: "widgets" };
    await eventually(() => objects.listNamespacedCustomObject(base), { what: "widgets served" });

    const seen: string[] = [];
    let watchError: unknown;
    const watch = new Watch(kc);
    const req = await watch.watch(
      `/apis/${group}/v1/namespaces/${ns.name}/widgets`,
      {},
      (type, obj: { status?: { phase?: string } }) => seen.push(`${type}:${obj.status?.phase ?? "-"}`),
      (err) => {
        watchError = err;
      },
    );
    try {
      await objects.createNamespacedCustomObject({
        ...base,
        body: { apiVersion: `${group}/v1`, kind: "Widget", metadata: { name: "one" }, spec: { size: 3 } },
      });
      for (const phase of ["Pending", "Ready"]) {
        await objects.patchNamespacedCustomObjectStatus(
          {
            ...base,
            name: "one",
            fieldManager: "capstan-test",
            force: true,
            body: { apiVersion: `${group}/v1`, kind: "Widget", metadata: { name: "one" }, status: { phase } },
          },
          setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
        );
      }
      const got = (await objects.getNamespacedCustomObject({ ...base, name: "one" })) as {
        status: { phase: string };
        metadata: { managedFields: { manager: string; subresource?: string }[] };
      };
      expect(got.status.phase).toBe("Ready");
      expect(got.metadata.managedFields).toContainEqual(
        expect.objectContaining({ manager: "capstan-test", subresource: "status" }),
      );
      await eventually(() => seen.length >= 3, {
        what: () => `three watch events (seen ${seen.join(", ")}; watch ended with ${String(watchError)})`,
      });
      expect(seen).toEqual(["ADDED:-", "MODIFIED:Pending", "MODIFIED:Ready"]);
    } finally {
      req.abort();
    }
  });

  it("should reject an object that breaks the schema, with the apiserver's message", async () => {
    await expect(
      objects.createNamespacedCustomObject({
        group,
        version: "v1",
        namespace: ns.name,
        plural: "widgets",
        body: { apiVersion: `${group}/v1`, kind: "Widget", metadata: { name: "bad" }, spec: { size: 99 } },
      }),
    ).rejects.toThrow(/spec\.size: Invalid value: 99: spec\.size in body should be less than or equal to 10/);
  });
});
