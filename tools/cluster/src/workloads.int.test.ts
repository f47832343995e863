import { AppsV1Api, CoreV1Api, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  createTestNamespace,
  eventually,
  loadKubeConfig,
  rawRequest,
  type TestNamespace,
  testKubeconfigPath,
} from "./testing.js";

describe("Given the real control plane with controller-manager, scheduler and kwok", () => {
  const kc = loadKubeConfig(testKubeconfigPath(inject("capstanKubeconfig")));
  let ns: TestNamespace;
  beforeAll(async () => {
    ns = await createTestNamespace(kc, "workloads");
  });
  afterAll(async () => ns.delete());

  it("should make a plain one-replica Deployment Available", async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    await apps.createNamespacedDeployment({
      namespace: ns.name,
      body: {
        metadata: { name: "web" },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: "web" } },
          template: {
            metadata: { labels: { app: "web" } },
            spec: { containers: [{ name: "web", image: "nginx:1.27" }] },
          },
        },
      },
    });
    const deployment = await eventually(
      async () => {
        const d = await apps.readNamespacedDeployment({ name: "web", namespace: ns.name });
        const available = d.status?.conditions?.find((c) => c.type === "Available");
        return available?.status === "True" ? d : undefined;
      },
      { timeoutMs: 60_000, what: "Deployment Available" },
    );
    expect(deployment.status?.readyReplicas).toBe(1);
  });

  it("should deny an impersonated ServiceAccount (403) until a RoleBinding allows it", async () => {
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedServiceAccount({ namespace: ns.name, body: { metadata: { name: "reader" } } });
    const asReader = { "Impersonate-User": `system:serviceaccount:${ns.name}:reader` };
    const denied = await rawRequest(kc, "GET", `/api/v1/namespaces/${ns.name}/configmaps`, { headers: asReader });
    expect(denied.status).toBe(403);
    expect(denied.json<{ message: string }>().message).toContain(
      `User "system:serviceaccount:${ns.name}:reader" cannot list resource "configmaps"`,
    );

    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns.name,
      body: {
        metadata: { name: "read-configmaps" },
        rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list"] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns.name,
      body: {
        metadata: { name: "reader" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "read-configmaps" },
        subjects: [{ kind: "ServiceAccount", name: "reader", namespace: ns.name }],
      },
    });
    const allowed = await eventually(
      async () => {
        const res = await rawRequest(kc, "GET", `/api/v1/namespaces/${ns.name}/configmaps`, { headers: asReader });
        return res.status === 200 ? res : undefined;
      },
      { what: "RBAC to allow the ServiceAccount" },
    );
    expect(allowed.json<{ kind: string }>().kind).toBe("ConfigMapList");
  });
});
