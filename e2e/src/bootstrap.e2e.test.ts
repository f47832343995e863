// End-to-end: a repository shaped like `flux bootstrap`'s. A root Kustomization applies the cluster's Kustomizations
// (infrastructure, and apps depending on it), which apply Kustomizations of their own (two levels of nesting). The
// tree syncs, survives a kustomize-controller restart with every finalizer in place, and a child removed from Git
// takes its workloads with it.
import { eventually, testKubeconfigPath } from "@capstan/cluster/testing";
import { type GitOpsEnv, startGitOpsEnv } from "@capstan/devenv/gitops";
import type { KubeObject } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const kustomize = (resources: string[]) =>
  `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${resources.map((r) => `  - ${r}`).join("\n")}\n`;

const child = (ns: string, name: string, path: string, extra = "") => `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  interval: 10m
  retryInterval: 2s
  path: ${path}
  prune: true
  sourceRef:
    kind: GitRepository
    name: app
  targetNamespace: ${ns}
${extra}`;

const deployment = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 1
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      containers:
        - name: ${name}
          image: registry.invalid/${name}:1
`;

const service = (name: string) => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  selector: { app: ${name} }
  ports:
    - port: 80
`;

const children = ["infrastructure", "configs", "apps", "web", "extra"];

describe("Given a Flux bootstrap-shaped repository with Kustomizations nested two levels", { timeout: 300_000 }, () => {
  const kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
  let env: GitOpsEnv;

  beforeAll(async () => {
    env = await startGitOpsEnv({
      kubeconfig,
      prefix: "e2e-bootstrap",
      only: ["source-controller", "kustomize-controller"],
    });
  }, 180_000);
  afterAll(async () => env?.close(), 120_000);

  const finalizers = async (name: string) =>
    (await env.get("kustomize.toolkit.fluxcd.io/v1", "Kustomization", name))?.metadata.finalizers ?? [];
  const workload = (kind: "Deployment" | "Service", name: string) =>
    env.get<KubeObject>(kind === "Deployment" ? "apps/v1" : "v1", kind, name);

  it("should sync the tree, keep every finalizer across a controller restart, and prune a removed child's workloads", async () => {
    const ns = env.namespace;
    await env.repo.commit({
      "clusters/dev/kustomization.yaml": kustomize(["infrastructure.yaml", "apps.yaml"]),
      "clusters/dev/infrastructure.yaml": child(ns, "infrastructure", "./infrastructure"),
      "clusters/dev/apps.yaml": child(ns, "apps", "./apps", "  dependsOn:\n    - name: infrastructure\n"),
      "infrastructure/kustomization.yaml": kustomize(["configs.yaml"]),
      "infrastructure/configs.yaml": child(ns, "configs", "./infrastructure/configs"),
      "infrastructure/configs/kustomization.yaml": kustomize(["settings.yaml"]),
      "infrastructure/configs/settings.yaml":
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n",
      "apps/kustomization.yaml": kustomize(["web.yaml", "extra.yaml"]),
      "apps/web.yaml": child(ns, "web", "./apps/web"),
      "apps/extra.yaml": child(ns, "extra", "./apps/extra"),
      "apps/web/kustomization.yaml": kustomize(["deployment.yaml", "service.yaml"]),
      "apps/web/deployment.yaml": deployment("web"),
      "apps/web/service.yaml": service("web"),
      "apps/extra/kustomization.yaml": kustomize(["deployment.yaml", "service.yaml"]),
      "apps/extra/deployment.yaml": deployment("extra"),
      "apps/extra/service.yaml": service("extra"),
    });
    await env.gitRepository("app", { interval: "2s" });
    await env.kustomization("flux-system", { path: "./clusters/dev", interval: "10s" });
    for (const name of ["flux-system", ...children]) await env.ready("Kustomization", name, 120_000);
    expect(await workload("Deployment", "extra")).toBeDefined();
    expect(await env.get("v1", "ConfigMap", "settings")).toBeDefined();

    const kc = env.controllers.get("kustomize-controller");
    await kc.process.stop();
    kc.process.start();
    // The parent applies its children again after the restart (a full apply: the shortcut's records are gone).
    const root = await env.get<KubeObject & { status?: { history?: { totalReconciliations?: number }[] } }>(
      "kustomize.toolkit.fluxcd.io/v1",
      "Kustomization",
      "flux-system",
    );
    const before = root?.status?.history?.[0]?.totalReconciliations ?? 0;
    await eventually(
      async () => {
        const k = await env.get<typeof root & object>("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "flux-system");
        return (k?.status?.history?.[0]?.totalReconciliations ?? 0) >= before + 2;
      },
      { what: "root reconciled twice after the restart", timeoutMs: 90_000 },
    );
    for (const name of children) expect(await finalizers(name)).toContain("finalizers.fluxcd.io");

    await env.repo.commit({ "apps/kustomization.yaml": kustomize(["web.yaml"]), "apps/extra.yaml": null });
    await eventually(async () => !(await env.get("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "extra")), {
      what: "Kustomization extra pruned",
      timeoutMs: 90_000,
    });
    await eventually(async () => !(await workload("Deployment", "extra")) && !(await workload("Service", "extra")), {
      what: "extra's Deployment and Service pruned",
      timeoutMs: 60_000,
    });
    expect(await workload("Deployment", "web")).toBeDefined();
    for (const name of ["infrastructure", "configs", "apps", "web"]) {
      expect(await finalizers(name)).toContain("finalizers.fluxcd.io");
    }
  });
});
