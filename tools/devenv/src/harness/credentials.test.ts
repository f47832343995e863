import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { RenderedObject } from "./charts.js";
import { credentialObjects, permissionRefusals } from "./credentials.js";

const obj = (kind: string, name: string, chart: string): RenderedObject => ({
  apiVersion: "v1",
  kind,
  metadata: { name, labels: { "app.kubernetes.io/name": chart } },
});

describe("Given a rendered chart and a controller's log", () => {
  const dir = mkdtempSync(join(tmpdir(), "capstan-credentials-test-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("should take the ServiceAccount and RBAC of the wanted controllers only", () => {
    const objects = [
      obj("ServiceAccount", "source-controller", "source-controller"),
      obj("ClusterRole", "r-source-controller", "source-controller"),
      obj("Deployment", "source-controller", "source-controller"),
      obj("ClusterRoleBinding", "r-kustomize-controller-cluster-admin", "kustomize-controller"),
      obj("RoleBinding", "r-kustomize-controller-leader-election", "kustomize-controller"),
      obj("ServiceAccount", "notification-controller", "notification-controller"),
    ];
    expect(
      credentialObjects(objects, ["source-controller", "kustomize-controller"]).map(
        (o) => `${o.kind}/${o.metadata.name}`,
      ),
    ).toEqual([
      "ServiceAccount/source-controller",
      "ClusterRole/r-source-controller",
      "ClusterRoleBinding/r-kustomize-controller-cluster-admin",
      "RoleBinding/r-kustomize-controller-leader-election",
    ]);
  });

  it("should count refusals of the controller's own account, not of an impersonated tenant", () => {
    const log = join(dir, "kustomize-controller.log");
    const own = JSON.stringify({
      level: "error",
      msg: 'events is forbidden: User "system:serviceaccount:flux-system:kustomize-controller" cannot create resource "events"',
    });
    const tenant = JSON.stringify({
      level: "error",
      msg: 'configmaps is forbidden: User "system:serviceaccount:tenant-a:default" cannot patch resource "configmaps"',
    });
    const otherNamespace = JSON.stringify({
      msg: 'User "system:serviceaccount:other:kustomize-controller" cannot list resource "secrets"',
    });
    writeFileSync(log, [own, tenant, otherNamespace, JSON.stringify({ msg: "ok" })].join("\n"));
    expect(permissionRefusals(log, "flux-system", "kustomize-controller")).toEqual([own]);
    expect(permissionRefusals(join(dir, "missing.log"), "flux-system", "kustomize-controller")).toEqual([]);
  });
});
