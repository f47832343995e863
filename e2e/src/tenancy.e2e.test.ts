// End-to-end, multi-tenancy as installed: `helm install` of the umbrella chart with its defaults (multitenancy on),
// source- and kustomize-controller running with nothing but a token of the ServiceAccount the chart created and the RBAC
// the chart bound to it. A tenant whose ServiceAccount `default` may edit its own namespace gets its objects applied
// there, and is refused, by the apiserver, an object in another namespace.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gitRepositoryType, kustomizationType } from "@capstan/api";
import { ensureCrds } from "@capstan/api/testing";
import {
  createTestNamespace,
  eventually,
  loadKubeConfig,
  type TestNamespace,
  testKubeconfigPath,
} from "@capstan/cluster/testing";
import { installChart } from "@capstan/devenv/charts";
import { type Controllers, startControllers } from "@capstan/devenv/controllers";
import { createTestRepo, startGitHttpServer } from "@capstan/gitserver";
import { KubeClient, type KubeObject } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}
type WithConditions = KubeObject & { status?: { conditions?: Condition[] } };

const configMap = (name: string, namespace: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
  namespace: ${namespace}
data:
  owner: tenant-a
`;

describe("Given the umbrella chart installed with multi-tenancy on and a tenant allowed to edit only its namespace", {
  timeout: 240_000,
}, () => {
  const kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
  const kc = loadKubeConfig(kubeconfig);
  const admin = new KubeClient({ kubeconfigPath: kubeconfig });
  const fieldManager = "capstan-e2e";
  const cleanups: (() => Promise<unknown>)[] = [];
  let system: TestNamespace;
  let tenant: TestNamespace;
  let other: TestNamespace;
  let controllers: Controllers;
  let repoUrl: string;
  let commit: (files: Record<string, string>) => Promise<string>;
  // The shared test cluster holds other tests' objects: these controllers watch every namespace, as installed, but
  // take only objects carrying this run's label (what the chart's extraArgs are for).
  const selector = { key: "capstan.dev/e2e-tenancy", value: randomBytes(4).toString("hex") };
  const labels = { [selector.key]: selector.value };

  beforeAll(async () => {
    await ensureCrds(kubeconfig);
    system = await createTestNamespace(kc, "tenancy-system");
    tenant = await createTestNamespace(kc, "tenant-a");
    other = await createTestNamespace(kc, "tenant-b");
    cleanups.push(
      () => other.delete(),
      () => tenant.delete(),
      () => system.delete(),
    );

    const gitRoot = mkdtempSync(join(tmpdir(), "capstan-e2e-tenancy-"));
    cleanups.push(async () => rmSync(gitRoot, { recursive: true, force: true }));
    const git = await startGitHttpServer({ root: gitRoot });
    cleanups.push(() => git.close());
    const repo = await createTestRepo(gitRoot, "tenant.git");
    repoUrl = `${git.url}/tenant.git`;
    commit = (files) => repo.commit(files);

    const set = [
      "notification-controller.enabled=false",
      ...["source-controller", "kustomize-controller"].map(
        (c) => `${c}.extraArgs[0]=--watch-label-selector=${selector.key}=${selector.value}`,
      ),
    ];
    const release = `tenancy-${selector.value}`;
    cleanups.push(await installChart(kubeconfig, system.name, release, set));
    controllers = await startControllers({
      kubeconfig,
      namespace: system.name,
      only: ["source-controller", "kustomize-controller"],
      set,
      credentials: "installed",
    });
    cleanups.push(() => controllers.stop());

    // The platform team's part: the tenant's ServiceAccount may edit its own namespace, nothing else.
    await admin.apply(
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "tenant-edit", namespace: tenant.name },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
        subjects: [{ kind: "ServiceAccount", name: "default", namespace: tenant.name }],
      } as KubeObject,
      { fieldManager },
    );
    await admin.apply(
      {
        apiVersion: gitRepositoryType.apiVersion,
        kind: gitRepositoryType.kind,
        metadata: { name: "tenant", namespace: tenant.name, labels },
        spec: { url: repoUrl, interval: "2s", ref: { branch: "main" } },
      },
      { fieldManager },
    );
    // Before the controllers stop, the Kustomizations go, so their finalizers prune what they applied.
    cleanups.push(() => deleteKustomizations());
  }, 240_000);

  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  }, 120_000);

  async function deleteKustomizations(): Promise<void> {
    for (const name of ["apps", "escape"]) {
      await admin
        .delete({
          apiVersion: kustomizationType.apiVersion,
          kind: kustomizationType.kind,
          name,
          namespace: tenant.name,
        })
        .catch(() => undefined);
    }
    await eventually(
      async () =>
        (
          await admin.list(await admin.resourceFor(kustomizationType.apiVersion, kustomizationType.kind), {
            namespace: tenant.name,
          })
        ).items.length === 0,
      { timeoutMs: 30_000, what: "the tenant's Kustomizations to finalize" },
    ).catch(() => undefined);
  }

  const kustomization = (name: string, path: string) =>
    admin.apply(
      {
        apiVersion: kustomizationType.apiVersion,
        kind: kustomizationType.kind,
        metadata: { name, namespace: tenant.name, labels },
        // No serviceAccountName: the chart's --default-service-account=default applies as the tenant's `default`.
        spec: { interval: "10m", path, prune: true, sourceRef: { kind: "GitRepository", name: "tenant" } },
      },
      { fieldManager },
    );

  const readyCondition = async (name: string) => {
    const ks = await admin.get<WithConditions>({
      apiVersion: kustomizationType.apiVersion,
      kind: kustomizationType.kind,
      name,
      namespace: tenant.name,
    });
    const ready = ks?.status?.conditions?.find((c) => c.type === "Ready");
    return ready?.observedGeneration === ks?.metadata.generation ? ready : undefined;
  };
  const logs = () => [...controllers.byName.values()].map((c) => `--- ${c.name}\n${c.logTail(20)}`).join("\n");
  const tenantUser = () => `system:serviceaccount:${tenant.name}:default`;

  it("should apply the tenant's objects in its own namespace, as the tenant", async () => {
    await commit({
      "apps/kustomization.yaml": "resources: [configmap.yaml]\n",
      "apps/configmap.yaml": configMap("allowed", tenant.name),
    });
    await kustomization("apps", "./apps");
    let last: Condition | undefined;
    await eventually(
      async () => {
        last = await readyCondition("apps");
        return last?.status === "True";
      },
      { timeoutMs: 120_000, what: () => `Kustomization apps Ready (last: ${JSON.stringify(last)})\n${logs()}` },
    );
    const applied = await admin.get({ apiVersion: "v1", kind: "ConfigMap", name: "allowed", namespace: tenant.name });
    expect(applied?.metadata.name).toBe("allowed");
  });

  it("should report the apiserver's refusal of an object in another namespace and create nothing there", async () => {
    await commit({
      "escape/kustomization.yaml": "resources: [configmap.yaml]\n",
      "escape/configmap.yaml": configMap("escaped", other.name),
    });
    await kustomization("escape", "./escape");
    const ready = await eventually(
      async () => {
        const c = await readyCondition("escape");
        return c?.status === "False" && /forbidden/i.test(c.message ?? "") ? c : undefined;
      },
      { timeoutMs: 120_000, what: () => `Kustomization escape refused\n${logs()}` },
    );
    // The refusal names the tenant's account and the namespace it may not write: the apiserver's, not the controller's.
    expect(ready.message).toContain(tenantUser());
    expect(ready.message).toContain(`in the namespace "${other.name}"`);
    expect(
      await admin.get({ apiVersion: "v1", kind: "ConfigMap", name: "escaped", namespace: other.name }),
    ).toBeFalsy();
  });

  it("should prune, as the tenant, an object that left Git", async () => {
    const sha = await commit({ "apps/kustomization.yaml": "resources: []\n" });
    await eventually(
      async () => !(await admin.get({ apiVersion: "v1", kind: "ConfigMap", name: "allowed", namespace: tenant.name })),
      { timeoutMs: 120_000, what: () => `ConfigMap allowed pruned\n${logs()}` },
    );
    await eventually(
      async () => {
        const ks = await admin.get<KubeObject & { status?: { lastAppliedRevision?: string } }>({
          apiVersion: kustomizationType.apiVersion,
          kind: kustomizationType.kind,
          name: "apps",
          namespace: tenant.name,
        });
        return ks?.status?.lastAppliedRevision === `main@sha1:${sha}`;
      },
      { timeoutMs: 60_000, what: "Kustomization apps at the pruning revision" },
    );
  });

  it("should never have refused the controllers a request of their own (the chart grants what they need)", () => {
    expect(controllers.permissionRefusals()).toEqual([]);
  });
});
