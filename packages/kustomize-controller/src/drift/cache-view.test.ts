// What the drift watch's informers keep of each object (cacheView): enough for drift (fingerprint.ts) and the
// built-in health rules (health/kstatus.ts), which must give the same answer on the cached copy as on the full object.
import { describe, expect, it } from "vitest";
import { computeStatus as kstatus } from "../health/kstatus.js";
import type { KubeObject } from "../kube.js";
import type { FingerprintOptions } from "./fingerprint.js";
import { cacheView } from "./watcher.js";

const o: FingerprintOptions = {
  fieldManager: "kustomize-controller",
  controlPrefix: "kustomize.toolkit.fluxcd.io/",
  cleanupManagers: [],
};

const template = { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx" }] } };

function deployment(replicas: number, status: Record<string, unknown>): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "apps", uid: "u1", generation: 2, resourceVersion: "9" },
    spec: { replicas, selector: { matchLabels: { app: "web" } }, template },
    status: { observedGeneration: 2, ...status },
  };
}

describe("cacheView", () => {
  it("should keep a Deployment's status and spec.replicas, not its pod template, and judge its health the same", () => {
    const view = cacheView("apps/Deployment", false, o);
    const cases = [
      deployment(2, { replicas: 2, updatedReplicas: 1 }),
      deployment(0, {
        conditions: [
          { type: "Available", status: "True" },
          { type: "Progressing", status: "True", reason: "NewReplicaSetAvailable" },
        ],
      }),
      deployment(3, { replicas: 3, updatedReplicas: 3, availableReplicas: 3, readyReplicas: 2 }),
    ];
    for (const full of cases) {
      const kept = view(full);
      expect(kept.spec).toEqual({ replicas: (full.spec as { replicas: number }).replicas });
      expect(kept.status).toEqual(full.status);
      expect(kstatus(kept)).toEqual(kstatus(full));
    }
  });

  it("should keep a Service's type (a LoadBalancer waits for its ingress) and no spec of kinds whose rules read none", () => {
    const lb: KubeObject = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "apps" },
      spec: { type: "LoadBalancer", ports: [{ port: 80 }], selector: { app: "web" } },
      status: { loadBalancer: {} },
    };
    expect(cacheView("/Service", false, o)(lb).spec).toEqual({ type: "LoadBalancer" });
    expect(kstatus(cacheView("/Service", false, o)(lb))).toEqual(kstatus(lb));
    const ingress: KubeObject = { ...lb, apiVersion: "networking.k8s.io/v1", kind: "Ingress", spec: { rules: [] } };
    expect(cacheView("networking.k8s.io/Ingress", false, o)(ingress).spec).toBeUndefined();
  });

  it("should keep of a metadata-only kind its metadata and nothing else", () => {
    const secret = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s", namespace: "apps", uid: "u2" },
      data: { password: "c2VjcmV0" },
    } as KubeObject;
    expect(cacheView("/Secret", true, o)(secret)).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s", namespace: "apps", uid: "u2" },
    });
  });
});
