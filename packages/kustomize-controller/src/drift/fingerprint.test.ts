import { describe, expect, it } from "vitest";
import type { KubeObject } from "../kube.js";
import { type FingerprintOptions, fingerprint, leanMetadata, mayHaveDrifted } from "./fingerprint.js";

const o: FingerprintOptions = {
  fieldManager: "kustomize-controller",
  controlPrefix: "kustomize.toolkit.fluxcd.io/",
  cleanupManagers: [
    { name: "kubectl", operation: "Apply" },
    { name: "kubectl", operation: "Update" },
  ],
};

const ours = (fields: Record<string, unknown>) => ({
  manager: "kustomize-controller",
  operation: "Apply",
  apiVersion: "apps/v1",
  time: "2026-01-01T00:00:00Z",
  fieldsV1: fields,
});

function deploy(rv: string, meta: Partial<KubeObject["metadata"]> = {}): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: "web",
      namespace: "apps",
      resourceVersion: rv,
      labels: { "kustomize.toolkit.fluxcd.io/name": "apps" },
      managedFields: [ours({ "f:spec": { "f:replicas": {} } })],
      ...meta,
    },
  };
}

const updates: [string, Record<string, unknown>, boolean][] = [
  [
    "someone took a field from our Apply entry (kubectl scale)",
    { managedFields: [ours({ "f:spec": {} }), { manager: "kubectl", operation: "Update", subresource: "scale" }] },
    true,
  ],
  [
    "a kubectl edit entry appeared (its fields are handed back to us by the apply)",
    {
      managedFields: [
        ours({ "f:spec": { "f:replicas": {} } }),
        { manager: "kubectl-edit", operation: "Update", time: "t", fieldsV1: { "f:data": {} } },
      ],
    },
    true,
  ],
  [
    "someone else applied under our field manager name, changing values only (the entry's time moved)",
    { managedFields: [{ ...ours({ "f:spec": { "f:replicas": {} } }), time: "2026-01-01T00:05:00Z" }] },
    true,
  ],
  ["deletion started", { deletionTimestamp: "2026-01-01T00:00:00Z" }, true],
  ["a control annotation was added", { annotations: { "kustomize.toolkit.fluxcd.io/reconcile": "disabled" } }, true],
  ["our owner label was removed", { labels: {} }, true],
  [
    "another controller wrote status",
    {
      managedFields: [
        ours({ "f:spec": { "f:replicas": {} } }),
        {
          manager: "kube-controller-manager",
          operation: "Update",
          subresource: "status",
          fieldsV1: { "f:status": {} },
        },
      ],
    },
    false,
  ],
  [
    "another tool added an annotation we do not manage",
    {
      annotations: { "deployment.kubernetes.io/revision": "2" },
      managedFields: [
        ours({ "f:spec": { "f:replicas": {} } }),
        { manager: "kube-controller-manager", operation: "Update", fieldsV1: { "f:metadata": {} } },
      ],
    },
    false,
  ],
];

describe("mayHaveDrifted", () => {
  it.each(updates)("Given an update where %s, should answer %s", (_what, meta, expected) => {
    expect(mayHaveDrifted(deploy("1"), deploy("2", meta as Partial<KubeObject["metadata"]>), o)).toBe(expected);
  });

  it("Given the same resourceVersion (a replayed event), should answer false", () => {
    expect(mayHaveDrifted(deploy("1"), deploy("1", { labels: {} }), o)).toBe(false);
  });

  it("Given objects without managedFields, should treat every new version as a possible drift", () => {
    expect(mayHaveDrifted(deploy("1", { managedFields: [] }), deploy("2", { managedFields: [] }), o)).toBe(true);
  });
});

describe("leanMetadata: what the drift watch's cache keeps", () => {
  const lean = (obj: KubeObject): KubeObject => ({ ...obj, metadata: leanMetadata(obj, o) });

  it.each(updates)("Given an update where %s, should still answer %s from the lean copies", (_what, meta, expected) => {
    const before = deploy("1");
    const after = deploy("2", meta as Partial<KubeObject["metadata"]>);
    expect(mayHaveDrifted(lean(before), lean(after), o)).toBe(expected);
  });

  it("should tell two field sets of ours apart by digest, and keep nobody else's field sets or annotations", () => {
    const big = { "f:spec": { "f:template": { "f:spec": { "f:containers": { 'k:{"name":"web"}': {} } } } } };
    const obj = deploy("7", {
      uid: "u1",
      generation: 3,
      annotations: {
        "kubectl.kubernetes.io/last-applied-configuration": "x".repeat(10_000),
        "kustomize.toolkit.fluxcd.io/reconcile": "disabled",
      },
      managedFields: [
        ours(big),
        { manager: "kube-controller-manager", operation: "Update", subresource: "status", fieldsV1: big },
      ],
    });
    const m = leanMetadata(obj, o);
    expect(m).toMatchObject({ name: "web", namespace: "apps", uid: "u1", generation: 3, resourceVersion: "7" });
    expect(m.annotations).toEqual({ "kustomize.toolkit.fluxcd.io/reconcile": "disabled" });
    expect(m.managedFields).toHaveLength(2);
    expect(m.managedFields?.[1]).toEqual({});
    expect(JSON.stringify(m).length).toBeLessThan(600);
    const changed = deploy("8", { managedFields: [ours({ ...big, "f:metadata": {} })] });
    expect(fingerprint(lean(changed), o)).not.toBe(fingerprint(lean(deploy("8", { managedFields: [ours(big)] })), o));
  });

  it("Given only other managers' entries, should not fall back to comparing resourceVersions", () => {
    const theirs = [{ manager: "helm", operation: "Update", time: "t", fieldsV1: { "f:spec": {} } }];
    expect(
      mayHaveDrifted(lean(deploy("1", { managedFields: theirs })), lean(deploy("2", { managedFields: theirs })), o),
    ).toBe(false);
    expect(mayHaveDrifted(lean(deploy("1", { managedFields: [] })), lean(deploy("2", { managedFields: [] })), o)).toBe(
      true,
    );
  });
});
