// End-to-end: source-controller and kustomize-controller as processes (args from their rendered charts), a real git
// server, the real control plane. Each scenario asserts on the cluster's state, never on logs.

import { eventually, testKubeconfigPath } from "@capstan/cluster/testing";
import { type GitOpsEnv, startGitOpsEnv } from "@capstan/devenv/gitops";
import type { KubeObject } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

interface Deployment extends KubeObject {
  spec: {
    replicas: number;
    template: { spec: { containers: { name: string; image: string; resources?: { limits?: { memory?: string } } }[] } };
  };
}
interface KustomizationStatus {
  lastAppliedRevision?: string;
  inventory?: { entries: { id: string; v: string }[] };
}

const deploymentYaml = (name: string, image: string, replicas = 1) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      containers:
        - name: ${name}
          image: ${image}
          resources:
            limits: { memory: 128Mi }
`;
const kustomizationYaml = (resources: string[], extra = "") =>
  `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${resources.map((r) => `  - ${r}`).join("\n")}\n${extra}`;

describe("Given Capstan's source and kustomize controllers running as their charts start them", {
  timeout: 180_000,
}, () => {
  const kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
  let env: GitOpsEnv;

  beforeAll(async () => {
    env = await startGitOpsEnv({
      kubeconfig,
      prefix: "e2e-gitops",
      only: ["source-controller", "kustomize-controller"],
    });
    await env.repo.commit({ "README.md": "# app\n" });
    // Polling every 2s stands in for a push webhook (the notification scenario covers the Receiver).
    await env.gitRepository("app", { interval: "2s" });
  }, 180_000);
  afterAll(async () => env?.close(), 120_000);

  const deployment = (name: string, namespace = env.namespace) =>
    env.get<Deployment>("apps/v1", "Deployment", name, namespace);
  const image = async (name: string) => (await deployment(name))?.spec.template.spec.containers[0]?.image;

  it("should sync a web app from Git, follow a commit that changes its image tag, and report the revision", async () => {
    const first = await env.repo.commit({
      "apps/web/kustomization.yaml": kustomizationYaml(["deployment.yaml"]),
      "apps/web/deployment.yaml": deploymentYaml("web", "nginx:1.27"),
    });
    await env.kustomization("web", { path: "./apps/web", targetNamespace: env.namespace });

    const ks = await env.ready<KubeObject & { status: KustomizationStatus }>("Kustomization", "web", 90_000);
    expect(ks.status.lastAppliedRevision).toBe(`main@sha1:${first}`);
    expect(ks.status.inventory?.entries.map((e) => e.id)).toContain(`${env.namespace}_web_apps_Deployment`);
    expect(await image("web")).toBe("nginx:1.27");

    const second = await env.repo.commit({ "apps/web/deployment.yaml": deploymentYaml("web", "nginx:1.28") });
    await eventually(async () => (await image("web")) === "nginx:1.28", {
      timeoutMs: 60_000,
      what: "image nginx:1.28",
    });
    const after = await eventually(
      async () => {
        const k = await env.get<KubeObject & { status: KustomizationStatus }>(
          "kustomize.toolkit.fluxcd.io/v1",
          "Kustomization",
          "web",
        );
        return k?.status.lastAppliedRevision === `main@sha1:${second}` ? k : undefined;
      },
      { what: "lastAppliedRevision of the second commit" },
    );
    expect(after.status.lastAppliedRevision).toBe(`main@sha1:${second}`);
    const source = await env.ready<KubeObject & { status: { artifact: { revision: string; digest: string } } }>(
      "GitRepository",
      "app",
    );
    expect(source.status.artifact.revision).toBe(`main@sha1:${second}`);
    expect(source.status.artifact.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("should apply a shared base with dev, staging and prod overlays, each with its replicas and limits", async () => {
    const envs = { dev: [1, "128Mi"], staging: [2, "256Mi"], prod: [3, "512Mi"] } as const;
    const files: Record<string, string> = {
      "multi/base/kustomization.yaml": kustomizationYaml(["deployment.yaml"]),
      "multi/base/deployment.yaml": deploymentYaml("shop", "nginx:1.27"),
    };
    for (const [name, [replicas, memory]] of Object.entries(envs)) {
      files[`multi/overlays/${name}/kustomization.yaml`] = kustomizationYaml(
        ["../../base"],
        `nameSuffix: -${name}\nreplicas:\n  - name: shop\n    count: ${replicas}\npatches:\n  - target: { kind: Deployment, name: shop }\n    patch: |\n      - op: replace\n        path: /spec/template/spec/containers/0/resources/limits/memory\n        value: ${memory}\n`,
      );
    }
    await env.repo.commit(files);
    for (const name of Object.keys(envs)) {
      await env.kustomization(`shop-${name}`, { path: `./multi/overlays/${name}`, targetNamespace: env.namespace });
    }
    for (const [name, [replicas, memory]] of Object.entries(envs)) {
      await env.ready("Kustomization", `shop-${name}`, 90_000);
      const d = await deployment(`shop-${name}`);
      expect(d?.spec.replicas).toBe(replicas);
      expect(d?.spec.template.spec.containers[0]?.resources?.limits?.memory).toBe(memory);
    }
  });

  it("should revert a manual scale, edit and delete, prune a file removed from Git, and roll back on git revert", async () => {
    await env.repo.commit({
      "heal/kustomization.yaml": kustomizationYaml(["deployment.yaml", "configmap.yaml"]),
      "heal/deployment.yaml": deploymentYaml("api", "nginx:1.27", 2),
      "heal/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: api-config\ndata:\n  mode: blue\n",
    });
    // A short interval bounds the test even where drift is only found at the interval.
    await env.kustomization("heal", { path: "./heal", targetNamespace: env.namespace, interval: "15s" });
    await env.ready("Kustomization", "heal", 90_000);
    const ref = { apiVersion: "apps/v1", kind: "Deployment", name: "api", namespace: env.namespace };

    // kubectl scale / kubectl edit: a different field manager changes fields we own.
    await env.client.mergePatch(ref, { spec: { replicas: 5 } }, { fieldManager: "kubectl" });
    await eventually(async () => (await deployment("api"))?.spec.replicas === 2, {
      timeoutMs: 60_000,
      what: "manual scale reverted to 2 replicas",
    });
    await env.client.mergePatch(
      ref,
      { spec: { template: { spec: { containers: [{ name: "api", image: "nginx:hacked" }] } } } },
      { fieldManager: "kubectl-edit" },
    );
    await eventually(async () => (await image("api")) === "nginx:1.27", { timeoutMs: 60_000, what: "edit reverted" });
    await env.client.delete(ref);
    await eventually(
      async () =>
        (await deployment("api"))?.metadata.deletionTimestamp === undefined && (await image("api")) === "nginx:1.27",
      {
        timeoutMs: 60_000,
        what: "deleted Deployment recreated",
      },
    );

    // A file leaves Git: its object is pruned.
    const cmRef = { apiVersion: "v1", kind: "ConfigMap", name: "api-config", namespace: env.namespace };
    expect(await env.client.get(cmRef)).toBeDefined();
    const removal = await env.repo.commit({
      "heal/configmap.yaml": null,
      "heal/kustomization.yaml": kustomizationYaml(["deployment.yaml"]),
    });
    await eventually(async () => (await env.client.get(cmRef)) === undefined, {
      timeoutMs: 60_000,
      what: "ConfigMap pruned",
    });

    // Rollback by git revert: the pruned ConfigMap comes back.
    await env.repo.git(["revert", "--no-edit", removal]);
    await env.repo.git(["push", "origin", "HEAD"]);
    await eventually(async () => (await env.client.get(cmRef)) !== undefined, {
      timeoutMs: 60_000,
      what: "ConfigMap restored by git revert",
    });
  });

  // The controllers run with only their chart's ServiceAccount and RBAC (harness/credentials.ts): a request the
  // apiserver refused them is a permission the chart lacks, even where the scenario above recovered from it.
  it("should never have refused the controllers a request of their own", () => {
    expect(env.controllers.permissionRefusals()).toEqual([]);
  });
});
