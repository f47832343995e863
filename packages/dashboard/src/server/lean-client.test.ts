import type { Client, KubeObject } from "@capstan/runtime";
import { describe, expect, it } from "vitest";
import { leanClient } from "./lean-client.js";
import type { Obj } from "./model.js";
import { summarize } from "./model.js";

const ks = (): KubeObject =>
  ({
    apiVersion: "kustomize.toolkit.fluxcd.io/v1",
    kind: "Kustomization",
    metadata: {
      name: "web",
      namespace: "team",
      managedFields: [{ manager: "kubectl" }],
      annotations: {
        "kubectl.kubernetes.io/last-applied-configuration": "{…}",
        "reconcile.fluxcd.io/requestedAt": "x",
      },
    },
    spec: { path: "./web", sourceRef: { kind: "GitRepository", name: "repo" } },
    status: {
      inventory: {
        entries: [
          { id: "team_a__ConfigMap", v: "v1" },
          { id: "team_b__ConfigMap", v: "v1" },
        ],
      },
      history: [{ digest: "sha256:1" }],
      lastAppliedRevision: "main@sha1:1",
    },
  }) as unknown as KubeObject;

describe("Given the informers' lean client", () => {
  const client = leanClient({
    list: async () => ({ items: [ks()], resourceVersion: "1" }),
  } as unknown as Client);

  it("should cache a Kustomization without managedFields, last-applied, history or inventory entries", async () => {
    const [obj] = (await client.list({} as never)).items;
    expect(obj?.metadata.managedFields).toBeUndefined();
    expect(obj?.metadata.annotations).toEqual({ "reconcile.fluxcd.io/requestedAt": "x" });
    expect(obj?.status).toEqual({ inventory: { count: 2 }, lastAppliedRevision: "main@sha1:1" });
  });

  it("should summarise the trimmed object as the whole one", async () => {
    const [obj] = (await client.list({} as never)).items;
    expect(summarize(obj as unknown as Obj)).toEqual(summarize(ks() as unknown as Obj));
  });
});
