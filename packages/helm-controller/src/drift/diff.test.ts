import type { KubeObject } from "@capstan/runtime";
import { describe, expect, it } from "vitest";
import { manifestObjects } from "./detect.js";
import { compare, correctionPatch, type Drift, jsonOps, summarize } from "./diff.js";

const deployment = (replicas: number, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: {
    name: "web",
    namespace: "apps",
    resourceVersion: "7",
    managedFields: [{ manager: "helm" }],
    labels: { app: "web" },
  },
  spec: { replicas, template: { spec: { containers: [{ name: "web", image: "web:1" }] } } },
  status: { readyReplicas: replicas },
  ...extra,
});

describe("Given a live object and the dry-run of its desired state", () => {
  it("should see no drift in metadata Helm does not manage or in status", () => {
    const live = deployment(1);
    live.metadata.resourceVersion = "8";
    (live.status as Record<string, unknown>).readyReplicas = 0;
    expect(compare(live, deployment(1), [])).toEqual([]);
  });

  it.each([
    ["a changed field", deployment(3), [{ op: "replace", path: "/spec/replicas" }]],
    [
      "a removed label",
      { ...deployment(1), metadata: { ...deployment(1).metadata, labels: {} } },
      [{ op: "add", path: "/metadata/labels" }],
    ],
  ])("should report %s as JSON patch operations", (_what, live, ops) => {
    expect(compare(live as KubeObject, deployment(1), [])).toEqual(ops);
  });

  it("should leave an ignored pointer out of the comparison", () => {
    expect(compare(deployment(3), deployment(1), ["/spec/replicas"])).toEqual([]);
    expect(compare(deployment(3), deployment(1), ["/spec/other"])).toHaveLength(1);
  });

  it("should count array growth and shrinkage as additions and removals", () => {
    expect(jsonOps({ a: [1, 2] }, { a: [1, 3, 4] })).toEqual([
      { op: "replace", path: "/a/1" },
      { op: "add", path: "/a/2" },
    ]);
    expect(jsonOps({ a: [1, 2, 3] }, { a: [1] })).toEqual([
      { op: "remove", path: "/a/2" },
      { op: "remove", path: "/a/1" },
    ]);
    expect(jsonOps({ "a/b": 1 }, {})).toEqual([{ op: "remove", path: "/a~1b" }]);
  });

  it("should patch a drifted object back to the dry-run, keeping ignored pointers as they are live", () => {
    const live = deployment(3);
    (live.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image =
      "web:hand";
    const patch = correctionPatch(live, deployment(1), ["/spec/template/spec/containers/0/image"]);
    expect(patch).toEqual({ spec: { replicas: 1 } });
    expect(correctionPatch(live, deployment(1), [])).toEqual({
      spec: { replicas: 1, template: { spec: { containers: [{ name: "web", image: "web:1" }] } } },
    });
  });

  it("should summarize as Flux's DriftDetected Event does", () => {
    const d = (type: Drift["type"], kind: string, ops: Drift["ops"] = []): Drift => ({
      type,
      desired: { apiVersion: "v1", kind, metadata: { name: "x", namespace: "ns" } },
      ignored: [],
      ops,
    });
    expect(
      summarize([
        d("create", "Secret"),
        d("exclude", "StatefulSet"),
        d("update", "Deployment", [
          { op: "add", path: "/a" },
          { op: "replace", path: "/b" },
          { op: "remove", path: "/c" },
          { op: "remove", path: "/d" },
        ]),
      ]),
    ).toBe(
      "Secret/ns/x removed\nStatefulSet/ns/x excluded\nDeployment/ns/x changed (1 additions, 1 changes, 2 removals)",
    );
  });

  it("should read a release manifest into objects, skipping empty documents", () => {
    const objs = manifestObjects(
      "---\n# Source: demo/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n---\n# only a comment\n",
    );
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["ConfigMap/a"]);
  });
});
