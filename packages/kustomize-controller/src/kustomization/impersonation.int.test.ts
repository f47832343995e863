// Multi-tenancy: with --default-service-account (the chart's multi-tenant setting) or spec.serviceAccountName the
// Kustomization applies, prunes and health-checks as that ServiceAccount, so RBAC decides what a tenant may change.
import { describe, expect, it } from "vitest";
import type { Harness } from "../testing/harness.js";
import {
  configMap,
  failedWith,
  getConfigMap,
  kubeconfig,
  readyAt,
  scenario,
  untilKustomization,
  webService,
} from "../testing/scenario.js";

const rbac = "rbac.authorization.k8s.io/v1";

/** Lets `account` manage ConfigMaps (or `resource`) in the namespace (what a platform team grants a tenant). */
async function grant(h: Harness, account: string, resource = "configmaps"): Promise<void> {
  const metadata = { name: `${resource}-${account}`, namespace: h.namespace };
  await h.client.apply(
    {
      apiVersion: rbac,
      kind: "Role",
      metadata,
      rules: [{ apiGroups: [""], resources: [resource], verbs: ["get", "list", "watch", "create", "patch", "delete"] }],
    },
    { fieldManager: "test" },
  );
  await h.client.apply(
    {
      apiVersion: rbac,
      kind: "RoleBinding",
      metadata,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: metadata.name },
      subjects: [{ kind: "ServiceAccount", name: account, namespace: h.namespace }],
    },
    { fieldManager: "test" },
  );
}

async function revoke(h: Harness, account: string): Promise<void> {
  await h.client.delete({
    apiVersion: rbac,
    kind: "RoleBinding",
    name: `configmaps-${account}`,
    namespace: h.namespace,
  });
}

const multiTenant = { flags: ["--default-service-account=default"] };

describe("Kustomization impersonation", () => {
  it("Given --default-service-account and no RBAC for it, should fail naming the object and the ServiceAccount, then apply once a RoleBinding grants it", async () => {
    const { ns, h } = await scenario(kubeconfig(), "ks-impersonate", multiTenant);
    const v1 = await h.artifact({ "a.yaml": configMap("a", "1"), "b.yaml": configMap("b", "1") });
    await h.publish("repo", v1);
    await h.kustomization("tenant", { targetNamespace: ns.name, retryInterval: "1s" });

    const denied = await untilKustomization(h, "tenant", "forbidden", failedWith("ReconciliationFailed"));
    const message = denied.status?.conditions?.find((c) => c.type === "Ready")?.message ?? "";
    expect(message).toContain(`ConfigMap/${ns.name}/a`);
    expect(message).toContain(`ConfigMap/${ns.name}/b`);
    expect(message).toContain(`system:serviceaccount:${ns.name}:default`);
    expect(message).toMatch(/forbidden/i);
    expect(await getConfigMap(h, "a")).toBeUndefined();
    expect(denied.status?.lastAppliedRevision).toBeUndefined();

    await grant(h, "default");
    await untilKustomization(h, "tenant", "applied after the grant", readyAt(v1.revision));
    expect((await getConfigMap(h, "a"))?.data).toEqual({ value: "1" });
    expect((await getConfigMap(h, "b"))?.data).toEqual({ value: "1" });
  });

  it("Given the grant revoked and a revision without b, should neither apply nor prune until the grant is back", async () => {
    const { ns, h } = await scenario(kubeconfig(), "ks-impersonate-prune", multiTenant);
    await grant(h, "default");
    const v1 = await h.artifact({ "a.yaml": configMap("a", "1"), "b.yaml": configMap("b", "1") });
    await h.publish("repo", v1);
    await h.kustomization("tenant", { targetNamespace: ns.name, retryInterval: "1s" });
    await untilKustomization(h, "tenant", "v1 applied", readyAt(v1.revision));

    await revoke(h, "default");
    const v2 = await h.artifact({ "a.yaml": configMap("a", "2") });
    await h.publish("repo", v2);
    const denied = await untilKustomization(
      h,
      "tenant",
      "v2 forbidden",
      (k) => failedWith("ReconciliationFailed")(k) && k.status?.lastAttemptedRevision === v2.revision,
    );
    expect(denied.status?.conditions?.find((c) => c.type === "Ready")?.message).toContain(
      `system:serviceaccount:${ns.name}:default`,
    );
    expect((await getConfigMap(h, "a"))?.data).toEqual({ value: "1" });
    expect(await getConfigMap(h, "b")).toBeDefined();
    expect(denied.status?.lastAppliedRevision).toBe(v1.revision);
    expect(denied.status?.inventory?.entries.map((e) => e.id)).toEqual([
      `${ns.name}_a__ConfigMap`,
      `${ns.name}_b__ConfigMap`,
    ]);

    await grant(h, "default");
    await untilKustomization(h, "tenant", "v2 applied after the grant", readyAt(v2.revision));
    expect((await getConfigMap(h, "a"))?.data).toEqual({ value: "2" });
    expect(await getConfigMap(h, "b")).toBeUndefined();
  });

  it("Given spec.serviceAccountName, should act as that ServiceAccount rather than the default one", async () => {
    const { ns, h } = await scenario(kubeconfig(), "ks-impersonate-sa", multiTenant);
    // The default account may apply: a success here would mean spec.serviceAccountName was ignored.
    await grant(h, "default");
    const v1 = await h.artifact({ "a.yaml": configMap("a", "1") });
    await h.publish("repo", v1);
    await h.kustomization("tenant", { targetNamespace: ns.name, retryInterval: "1s", serviceAccountName: "deployer" });

    const denied = await untilKustomization(h, "tenant", "forbidden", failedWith("ReconciliationFailed"));
    const message = denied.status?.conditions?.find((c) => c.type === "Ready")?.message ?? "";
    expect(message).toContain(`ConfigMap/${ns.name}/a`);
    expect(message).toContain(`system:serviceaccount:${ns.name}:deployer`);
    expect(await getConfigMap(h, "a")).toBeUndefined();

    await grant(h, "deployer");
    await untilKustomization(h, "tenant", "applied as deployer", readyAt(v1.revision));
    expect((await getConfigMap(h, "a"))?.data).toEqual({ value: "1" });
  });

  it("Given a tenant's healthChecks naming an object another Kustomization applied, should read it as the tenant, not from the controller's cache", async () => {
    const { ns, h } = await scenario(kubeconfig(), "ks-impersonate-health", multiTenant);
    // The platform's Kustomization (its own ServiceAccount, which may manage Services) applies the Service "web": the
    // drift watch, with the controller's rights, caches it.
    await grant(h, "platform", "services");
    await grant(h, "platform");
    const platform = await h.artifact({ "svc.yaml": webService });
    await h.publish("repo", platform);
    await h.kustomization("platform", { targetNamespace: ns.name, serviceAccountName: "platform" });
    await untilKustomization(h, "platform", "ready", readyAt(platform.revision));

    // The tenant may manage ConfigMaps only; its health check names the platform's Service.
    await grant(h, "deployer");
    const tenant = await h.artifact({ "a.yaml": configMap("a", "1") });
    await h.publish("tenant-repo", tenant);
    await h.kustomization("tenant", {
      sourceRef: { kind: "GitRepository", name: "tenant-repo" },
      targetNamespace: ns.name,
      serviceAccountName: "deployer",
      healthChecks: [{ apiVersion: "v1", kind: "Service", name: "web", namespace: ns.name }],
      timeout: "5s",
    });
    const failed = await untilKustomization(h, "tenant", "health check failed", failedWith("HealthCheckFailed"));
    const message = failed.status?.conditions?.find((c) => c.type === "Ready")?.message ?? "";
    expect(message).toContain(`Service/${ns.name}/web status: 'Unknown'`);
    expect(message).toContain(`system:serviceaccount:${ns.name}:deployer`);
  });
});
