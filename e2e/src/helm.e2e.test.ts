// End-to-end, Helm releases as installed: source-controller and helm-controller started as processes with the args
// the umbrella chart gives them and a token of the ServiceAccount (and RBAC) the chart creates, multi-tenancy on. A
// Helm repository on loopback (charts packaged with the real `helm package`, indexed with `helm repo index`) serves a
// chart; a HelmRelease with a version range is released as the tenant's ServiceAccount, publishing 1.1.0 upgrades it
// without any change to the HelmRelease, the real helm CLI sees what status says, and deletion uninstalls.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { helmReleaseType, helmRepositoryType } from "@capstan/api";
import { ensureCrds } from "@capstan/api/testing";
import { ensureBinaries } from "@capstan/cluster";
import {
  createTestNamespace,
  eventually,
  loadKubeConfig,
  type TestNamespace,
  testKubeconfigPath,
} from "@capstan/cluster/testing";
import { type Controllers, startControllers } from "@capstan/devenv/controllers";
import { type HelmRepoServer, startHelmRepoServer } from "@capstan/gitserver";
import { KubeClient, type KubeObject } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const run = promisify(execFile);

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
type HelmReleaseObject = KubeObject & {
  status?: { conditions?: Condition[]; history?: { version: number; chartVersion: string; status: string }[] };
};

describe("Given source-controller and helm-controller as the umbrella chart runs them, multi-tenancy on", {
  timeout: 240_000,
}, () => {
  const kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
  const kc = loadKubeConfig(kubeconfig);
  const admin = new KubeClient({ kubeconfigPath: kubeconfig });
  const fieldManager = "capstan-e2e";
  const cleanups: (() => Promise<unknown>)[] = [];
  const selector = { key: "capstan.dev/e2e-helm", value: randomBytes(4).toString("hex") };
  const labels = { [selector.key]: selector.value };
  let system: TestNamespace;
  let tenant: TestNamespace;
  let controllers: Controllers;
  let repo: HelmRepoServer;

  const helmCli = async (args: string[]) => {
    const { bin } = await ensureBinaries();
    const { stdout } = await run(bin.helm, [...args, "--kubeconfig", kubeconfig], {
      env: { PATH: "/usr/bin:/bin", HOME: "/tmp" },
    });
    return stdout;
  };
  const getRelease = () =>
    admin.get<HelmReleaseObject>({
      apiVersion: helmReleaseType.apiVersion,
      kind: helmReleaseType.kind,
      name: "myapp",
      namespace: tenant.name,
    });
  const readyAt = (chartVersion: string) =>
    eventually(
      async () => {
        const hr = await getRelease();
        const ready = hr?.status?.conditions?.find((c) => c.type === "Ready");
        return ready?.status === "True" && hr?.status?.history?.[0]?.chartVersion === chartVersion && hr;
      },
      { timeoutMs: 120_000, what: `myapp Ready with chart ${chartVersion}` },
    );

  beforeAll(async () => {
    await ensureCrds(kubeconfig);
    system = await createTestNamespace(kc, "helm-system");
    tenant = await createTestNamespace(kc, "helm-tenant");
    cleanups.push(
      () => tenant.delete(),
      () => system.delete(),
    );
    repo = await startHelmRepoServer();
    cleanups.push(() => repo.close());
    await repo.publish({ name: "myapp", version: "1.0.0", appVersion: "1.0.0", values: "message: default\n" });

    const set = ["kustomize-controller.enabled=false", "notification-controller.enabled=false"];
    for (const c of ["source-controller", "helm-controller"]) {
      set.push(`${c}.extraArgs[0]=--watch-label-selector=${selector.key}=${selector.value}`);
    }
    controllers = await startControllers({
      kubeconfig,
      namespace: system.name,
      only: ["source-controller", "helm-controller"],
      set,
    });
    cleanups.push(() => controllers.stop());

    // The platform team's part: the tenant's ServiceAccount `default` may edit its own namespace (release Secrets too).
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
        apiVersion: helmRepositoryType.apiVersion,
        kind: helmRepositoryType.kind,
        metadata: { name: "charts", namespace: tenant.name, labels },
        spec: { url: repo.url, interval: "2s" },
      } as KubeObject,
      { fieldManager },
    );
    cleanups.push(() =>
      admin
        .delete({
          apiVersion: helmReleaseType.apiVersion,
          kind: helmReleaseType.kind,
          name: "myapp",
          namespace: tenant.name,
        })
        .then(() => eventually(async () => (await getRelease()) === undefined, { timeoutMs: 60_000 })),
    );
  }, 240_000);

  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    admin.close();
  }, 120_000);

  it("should release the chart from the Helm repository as the tenant's ServiceAccount", async () => {
    await admin.apply(
      {
        apiVersion: helmReleaseType.apiVersion,
        kind: helmReleaseType.kind,
        metadata: { name: "myapp", namespace: tenant.name, labels },
        spec: {
          interval: "10m",
          timeout: "1m",
          chart: {
            metadata: { labels },
            spec: {
              chart: "myapp",
              version: "1.x",
              interval: "2s",
              sourceRef: { kind: "HelmRepository", name: "charts" },
            },
          },
          values: { message: "dev" },
        },
      } as KubeObject,
      { fieldManager },
    );
    const hr = await readyAt("1.0.0");
    expect(hr.status?.history?.map((h) => `${h.version} ${h.status}`)).toEqual(["1 deployed"]);
    const ls = JSON.parse(await helmCli(["ls", "-n", tenant.name, "-o", "json"])) as {
      name: string;
      chart: string;
      status: string;
    }[];
    expect(ls.map((r) => `${r.name} ${r.chart} ${r.status}`)).toEqual(["myapp myapp-1.0.0 deployed"]);
    expect(JSON.parse(await helmCli(["get", "values", "myapp", "-n", tenant.name, "-o", "json"]))).toEqual({
      message: "dev",
    });
  });

  it("should upgrade when 1.1.0 is published, without a change to the HelmRelease", async () => {
    await repo.publish({ name: "myapp", version: "1.1.0", appVersion: "1.1.0", values: "message: default\n" });
    const hr = await readyAt("1.1.0");
    expect(hr.status?.history?.map((h) => `${h.version} ${h.chartVersion} ${h.status}`)).toEqual([
      "2 1.1.0 deployed",
      "1 1.0.0 superseded",
    ]);
    const history = JSON.parse(await helmCli(["history", "myapp", "-n", tenant.name, "-o", "json"])) as {
      revision: number;
      status: string;
    }[];
    expect(history.map((h) => `${h.revision} ${h.status}`)).toEqual(["1 superseded", "2 deployed"]);
  });

  it("should uninstall on delete, and need no permission the chart does not grant", async () => {
    await admin.delete({
      apiVersion: helmReleaseType.apiVersion,
      kind: helmReleaseType.kind,
      name: "myapp",
      namespace: tenant.name,
    });
    await eventually(async () => (await getRelease()) === undefined, { timeoutMs: 60_000, what: "myapp gone" });
    expect(JSON.parse(await helmCli(["ls", "-n", tenant.name, "-o", "json"]))).toEqual([]);
    expect(controllers.permissionRefusals()).toEqual([]);
  });
});
