// The Kustomization reconciler end to end inside one process: a real apiserver with the Flux CRDs, a GitRepository
// whose status points at a tarball on a loopback HTTP server, the real kustomize binary and the runtime's Manager.
import { kustomizationType } from "@capstan/api";
import { eventually } from "@capstan/cluster/testing";
import { describe, expect, it } from "vitest";
import { readyOf as ready } from "../testing/harness.js";
import {
  appliedAt,
  configMap as cm,
  fileScenario,
  getConfigMap,
  ownSource,
  untilKustomization,
} from "../testing/scenario.js";

const s = fileScenario("ks-reconcile");

describe("Kustomization reconciler", () => {
  it("Given a source revision, should apply it, record the inventory, then prune and update on the next revision", async () => {
    const { ns, h } = s;
    const v1 = await h.artifact({ "a.yaml": cm("a", "1"), "b.yaml": cm("b", "1") });
    await h.publish("repo", v1);
    await h.kustomization("apps", { targetNamespace: ns.name, postBuild: { substitute: { unused: "x" } } });

    const k1 = await eventually(
      async () => {
        const k = await h.getKustomization("apps");
        return k?.status?.lastAppliedRevision === v1.revision && ready(k)?.status === "True" && k;
      },
      { what: "first revision applied", timeoutMs: 60_000 },
    );
    expect(ready(k1)).toMatchObject({ reason: "ReconciliationSucceeded", message: `Applied revision: ${v1.revision}` });
    expect(k1.status?.inventory?.entries).toEqual([
      { id: `${ns.name}_a__ConfigMap`, v: "v1" },
      { id: `${ns.name}_b__ConfigMap`, v: "v1" },
    ]);
    expect(k1.status?.history?.[0]).toMatchObject({
      lastReconciledStatus: "ReconciliationSucceeded",
      metadata: { revision: v1.revision },
    });
    expect((await getConfigMap(h, "a"))?.metadata.labels).toMatchObject({
      "kustomize.toolkit.fluxcd.io/name": "apps",
      "kustomize.toolkit.fluxcd.io/namespace": ns.name,
    });
    expect(k1.metadata.finalizers).toContain("finalizers.fluxcd.io");

    const v2 = await h.artifact({ "a.yaml": cm("a", "2") });
    await h.publish("repo", v2);
    await untilKustomization(h, "apps", "second revision applied", appliedAt(v2.revision));
    expect((await getConfigMap(h, "a"))?.data).toEqual({ value: "2" });
    expect(await getConfigMap(h, "b")).toBeUndefined();
    expect((await h.getKustomization("apps"))?.status?.inventory?.entries).toEqual([
      { id: `${ns.name}_a__ConfigMap`, v: "v1" },
    ]);
  });

  it("Given a dependency that does not exist, should report DependencyNotReady", async () => {
    const { ns, h } = s;
    await h.kustomization("dependent", { dependsOn: [{ name: "missing" }] });
    const k = await eventually(
      async () => {
        const r = ready(await h.getKustomization("dependent"));
        return r?.reason === "DependencyNotReady" && r;
      },
      { what: "DependencyNotReady" },
    );
    expect(k.message).toContain(`dependency '${ns.name}/missing' is not ready`);
  });

  it("Given decryption through cloud KMS, an unsupported source kind or a workload-identity kubeConfig, should stall saying it is not supported", async () => {
    const { h } = s;
    await h.kustomization("sops", { decryption: { provider: "sops", serviceAccountName: "kms" } });
    await h.kustomization("bucket", { sourceRef: { kind: "Bucket", name: "x" } });
    await h.client.apply(
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "gke", namespace: s.ns.name },
        data: { provider: "gcp", cluster: "projects/p/locations/l/clusters/c" },
      },
      { fieldManager: "test" },
    );
    await h.kustomization("remote", { kubeConfig: { configMapRef: { name: "gke" } } });
    for (const [name, text] of [
      ["sops", "spec.decryption.serviceAccountName (cloud KMS through workload identity) is not supported"],
      ["bucket", "source kind 'Bucket' is not supported yet"],
      [
        "remote",
        `spec.kubeConfig.configMapRef: ConfigMap/${s.ns.name}/gke: provider 'gcp' authenticates through GCP Workload Identity (GKE) workload identity`,
      ],
    ] as const) {
      const k = await eventually(
        async () => {
          const obj = await h.getKustomization(name);
          return obj?.status?.conditions?.find((c) => c.type === "Stalled") && obj;
        },
        { what: `${name} stalled` },
      );
      expect(ready(k)).toMatchObject({ status: "False" });
      expect(ready(k)?.message).toContain(text);
    }
  });

  it("Given a build error, should report BuildFailed naming the cause", async () => {
    const { h } = s;
    const bad = await h.artifact({ "kustomization.yaml": "resources: [missing.yaml]\n" });
    await h.publish("broken", bad);
    await h.kustomization("broken", { sourceRef: { kind: "GitRepository", name: "broken" } });
    const r = await eventually(
      async () => {
        const c = ready(await h.getKustomization("broken"));
        return c?.reason === "BuildFailed" && c;
      },
      { what: "BuildFailed" },
    );
    expect(r.message).toContain("missing.yaml");
    expect((await h.getKustomization("broken"))?.status?.lastAttemptedRevision).toBe(bad.revision);
  });

  it("Given a deleted Kustomization with prune, should delete its objects and release the finalizer", async () => {
    const { ns, h } = s;
    const a = await ownSource(h, "gc", { "gc.yaml": cm("gc", "1") });
    await eventually(async () => (await h.getKustomization("gc"))?.status?.lastAppliedRevision === a.revision, {
      what: "gc applied",
    });
    expect(await getConfigMap(h, "gc")).toBeDefined();
    await h.client.delete({
      apiVersion: kustomizationType.apiVersion,
      kind: "Kustomization",
      name: "gc",
      namespace: ns.name,
    });
    await eventually(async () => (await h.getKustomization("gc")) === undefined, { what: "Kustomization gone" });
    expect(await getConfigMap(h, "gc")).toBeUndefined();
  });
});
