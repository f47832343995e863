// Drift seen in seconds (a Capstan addition): with the interval at 10m, a manual scale, edit or delete of an
// inventory object is reverted long before the next interval, because the drift watch enqueues the Kustomization.
import { eventually, loadKubeConfig, rawRequest } from "@capstan/cluster/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { type PublishedArtifact, readyOf } from "../testing/harness.js";
import { deployment, fileScenario, kubeconfig, webService } from "../testing/scenario.js";

const s = fileScenario("ks-drift", { options: { driftDebounceMs: 200 } });
let v1: PublishedArtifact;

const configMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  color: blue
`;
const ref = (apiVersion: string, kind: string, name: string) => ({ apiVersion, kind, name, namespace: s.ns.name });

async function color(): Promise<string | undefined> {
  const cm = await s.h.client.get(ref("v1", "ConfigMap", "settings"));
  return (cm?.data as Record<string, string> | undefined)?.color;
}

async function reconciles(): Promise<number> {
  return (await s.h.getKustomization("apps"))?.status?.history?.[0]?.totalReconciliations ?? 0;
}

beforeAll(async () => {
  const { ns, h } = s;
  v1 = await h.artifact({ "deploy.yaml": deployment(1), "cm.yaml": configMap, "svc.yaml": webService });
  await h.publish("repo", v1);
  await h.kustomization("apps", { targetNamespace: ns.name, interval: "10m" });
  await eventually(async () => (await h.getKustomization("apps"))?.status?.lastAppliedRevision === v1.revision, {
    what: "first apply",
    timeoutMs: 60_000,
  });
  // The first reconcile put the kinds in the inventory; wait until the drift watch covers them.
  await eventually(() => !h.kustomize.drift || h.kustomize.drift.token(["apps/Deployment", "/ConfigMap", "/Service"]), {
    what: "drift watch synced",
  });
});

describe("drift watch", () => {
  it("Given a manual scale of a Deployment (kubectl scale), should revert the replicas within seconds", async () => {
    const { ns, h } = s;
    const res = await rawRequest(
      loadKubeConfig(kubeconfig()),
      "PATCH",
      `/apis/apps/v1/namespaces/${ns.name}/deployments/web/scale?fieldManager=kubectl`,
      {
        body: { spec: { replicas: 3 } },
        contentType: "application/merge-patch+json",
      },
    );
    expect(res.status).toBe(200);
    const d = await eventually(
      async () => {
        const obj = await h.client.get<{ spec: { replicas: number } } & import("@capstan/runtime").KubeObject>(
          ref("apps/v1", "Deployment", "web"),
        );
        return obj?.spec.replicas === 1 && obj;
      },
      { what: "replicas reverted to 1", timeoutMs: 30_000 },
    );
    expect(d.spec.replicas).toBe(1);
  });

  it("Given a manual edit of a ConfigMap (kubectl edit), should restore the applied data within seconds", async () => {
    const { h } = s;
    await h.client.mergePatch(
      ref("v1", "ConfigMap", "settings"),
      { data: { color: "red" } },
      { fieldManager: "kubectl-edit" },
    );
    const cm = await eventually(
      async () => {
        const obj = await h.client.get(ref("v1", "ConfigMap", "settings"));
        return (obj?.data as Record<string, string> | undefined)?.color === "blue" && obj;
      },
      { what: "ConfigMap restored", timeoutMs: 30_000 },
    );
    expect(cm.data).toEqual({ color: "blue" });
  });

  it("Given a deleted Service, should recreate it within seconds", async () => {
    const { h } = s;
    const before = await h.client.get(ref("v1", "Service", "web"));
    expect(await h.client.delete(ref("v1", "Service", "web"))).toBe(true);
    const after = await eventually(
      async () => {
        const obj = await h.client.get(ref("v1", "Service", "web"));
        return obj && obj.metadata.uid !== before?.metadata.uid && obj;
      },
      { what: "Service recreated", timeoutMs: 30_000 },
    );
    expect(after.metadata.labels).toMatchObject({ "kustomize.toolkit.fluxcd.io/name": "apps" });
    expect(readyOf(await h.getKustomization("apps"))?.status).toBe("True");
  });

  it("Given a change to a field the Kustomization does not manage, should not reconcile", async () => {
    const { h } = s;
    const before = await reconciles();
    // A foreign annotation is never drift: the dry-run keeps it too. Follow it with a drift so that the test waits
    // for a reconcile that must come, then count: exactly one more, the one for the ConfigMap.
    await h.client.mergePatch(
      ref("v1", "Service", "web"),
      { metadata: { annotations: { "example.com/owner": "team-a" } } },
      { fieldManager: "other-tool" },
    );
    await new Promise((r) => setTimeout(r, 1000));
    await h.client.mergePatch(
      ref("v1", "ConfigMap", "settings"),
      { data: { color: "green" } },
      { fieldManager: "kubectl-edit" },
    );
    await eventually(async () => (await color()) === "blue", { what: "ConfigMap restored", timeoutMs: 30_000 });
    await eventually(async () => (await reconciles()) > before, { what: "history updated" });
    expect(await reconciles()).toBe(before + 1);
    expect((await h.client.get(ref("v1", "Service", "web")))?.metadata.annotations).toMatchObject({
      "example.com/owner": "team-a",
    });
  });

  it("Given a revision without Deployments, should stop watching Deployments", async () => {
    const { h } = s;
    expect(h.kustomize.drift?.watchedKinds()).toContain("apps/Deployment");
    const v2 = await h.artifact({ "cm.yaml": configMap });
    await h.publish("repo", v2);
    await eventually(async () => (await h.getKustomization("apps"))?.status?.lastAppliedRevision === v2.revision, {
      what: "second revision",
      timeoutMs: 60_000,
    });
    await eventually(() => !h.kustomize.drift?.watchedKinds().includes("apps/Deployment"), {
      what: "Deployment watch stopped",
    });
    expect(h.kustomize.drift?.watchedKinds()).toEqual(["/ConfigMap"]);
  });
});
