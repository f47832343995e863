// A bootstrap-shaped repository: a root Kustomization applies two child Kustomizations from Git (infra, and apps
// depending on it). The children's finalizers and status are written under Flux's `gotk-kustomize-controller`, so
// the root's server-side apply (under `kustomize-controller`) neither takes them over nor removes them: the children
// keep their finalizer, the root's no-op applies write nothing, and a child removed from Git prunes its workloads.
import { eventually } from "@capstan/cluster/testing";
import type { KubeObject } from "@capstan/runtime";
import { describe, expect, it } from "vitest";
import {
  configMap,
  deployment,
  fileScenario,
  namespaceEvents,
  readyAt,
  untilKustomization,
  webService,
} from "../testing/scenario.js";
import type { KustomizationObject } from "./types.js";

const s = fileScenario("ks-nested", { options: { fullApplyEvery: 1, driftDebounceMs: 200 } });

const child = (ns: string, name: string, extra = "") => `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  interval: 10m
  timeout: 30s
  retryInterval: 1s
  path: ./${name}
  prune: true
  sourceRef:
    kind: GitRepository
    name: repo
  targetNamespace: ${ns}
${extra}`;

const reconciles = async (name: string) =>
  (await s.h.getKustomization(name))?.status?.history?.[0]?.totalReconciliations ?? 0;

async function untilRootReconciled(times: number): Promise<void> {
  const start = await reconciles("root");
  await eventually(async () => (await reconciles("root")) >= start + times, {
    what: `root reconciled ${times} more times`,
    timeoutMs: 60_000,
  });
}

describe("a root Kustomization applying child Kustomizations", () => {
  it("Given five root reconciles, should leave the children's finalizers and objects untouched, then prune a removed child's workloads", async () => {
    const { ns, h } = s;
    const tree = {
      "clusters/infra.yaml": child(ns.name, "infra"),
      "clusters/apps.yaml": child(ns.name, "apps", "  dependsOn:\n    - name: infra\n"),
      "infra/settings.yaml": configMap("settings", "1"),
      "apps/deploy.yaml": deployment(1),
      "apps/svc.yaml": webService,
    };
    const v1 = await h.artifact(tree);
    await h.publish("repo", v1);
    await h.kustomization("root", { path: "./clusters", interval: "1s" });
    for (const name of ["root", "infra", "apps"])
      await untilKustomization(h, name, "Ready at v1", readyAt(v1.revision));
    // Let the root apply again after the children wrote their finalizer and status, then take the snapshot.
    await untilRootReconciled(2);
    const before = await Promise.all(["infra", "apps"].map((n) => h.getKustomization(n)));
    await untilRootReconciled(5);
    const after = await Promise.all(["infra", "apps"].map((n) => h.getKustomization(n)));

    for (const [i, k] of after.entries()) {
      expect(k?.metadata.finalizers).toContain("finalizers.fluxcd.io");
      // Nothing wrote the children during five full (dry-run) applies of the root.
      expect(k?.metadata.resourceVersion).toBe(before[i]?.metadata.resourceVersion);
      const managers = (k?.metadata.managedFields ?? []) as { manager: string; operation: string }[];
      expect(managers.filter((m) => m.manager === "kustomize-controller").map((m) => m.operation)).toEqual(["Apply"]);
      expect(managers.some((m) => m.manager === "gotk-kustomize-controller")).toBe(true);
    }
    const configured = (await namespaceEvents(h)).filter((e) =>
      /Kustomization\/\S+\/(infra|apps) configured/.test(e.message ?? ""),
    );
    expect(configured).toEqual([]);

    // A finalizer stripped by someone else (a parent's apply did so to those earlier versions wrote under
    // `kustomize-controller`) comes back at once, not at the child's next interval.
    await h.client.mergePatch(
      { apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization", name: "apps", namespace: ns.name },
      { metadata: { finalizers: null } },
      { fieldManager: "kustomize-controller" },
    );
    await eventually(
      async () => (await h.getKustomization("apps"))?.metadata.finalizers?.includes("finalizers.fluxcd.io"),
      {
        what: "apps' finalizer restored",
        timeoutMs: 30_000,
      },
    );

    // apps leaves Git: the root prunes it, and its finalizer prunes its Deployment and Service first.
    const { "clusters/apps.yaml": _gone, ...rest } = tree;
    const v2 = await h.artifact(rest);
    await h.publish("repo", v2);
    const ref = (apiVersion: string, kind: string) => ({ apiVersion, kind, name: "web", namespace: ns.name });
    await eventually(async () => !(await h.getKustomization("apps")), { what: "apps deleted", timeoutMs: 60_000 });
    await eventually(
      async () => !(await h.client.get(ref("apps/v1", "Deployment"))) && !(await h.client.get(ref("v1", "Service"))),
      { what: "apps' Deployment and Service pruned", timeoutMs: 30_000 },
    );
    const root = await h.getKustomization("root");
    expect(root?.status?.inventory?.entries.map((e) => e.id)).toEqual([
      `${ns.name}_infra_kustomize.toolkit.fluxcd.io_Kustomization`,
    ]);
    const infra = (await h.getKustomization("infra")) as KustomizationObject;
    expect(infra.metadata.finalizers).toContain("finalizers.fluxcd.io");
    expect(
      await h.client.get<KubeObject>({ apiVersion: "v1", kind: "ConfigMap", name: "settings", namespace: ns.name }),
    ).toBeDefined();
  });
});
