// End-to-end: what `./dev demo` syncs. examples/demo-repo pushed to a real git server, the objects the demo's
// supervisor applies (tools/devenv/src/demo/objects.ts: the GitRepository `demo`, the namespaces, one Kustomization per
// app overlay, and `releases` for the HelmReleases), and the controllers with the chart values the demo gives them.
// Every Kustomization and both HelmReleases of the Helm-based app (charts/shop, releases/shop-dev and shop-prod) go
// Ready with their own replicas; a values change pushed to Git upgrades only that environment's release.
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { helmReleaseType } from "@capstan/api";
import { eventually, testKubeconfigPath } from "@capstan/cluster/testing";
import { repoRoot } from "@capstan/devenv/charts";
import { demoChartValues, demoObjects } from "@capstan/devenv/demo";
import { collectRows } from "@capstan/devenv/demo-table";
import { type GitOpsEnv, startGitOpsEnv } from "@capstan/devenv/gitops";
import type { KubeObject } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

interface HelmRelease extends KubeObject {
  status?: {
    conditions?: { type: string; status: string; reason?: string; observedGeneration?: number }[];
    history?: { version: number; chartName: string; chartVersion: string; status: string }[];
    helmChart?: string;
  };
}
interface Deployment extends KubeObject {
  spec: { replicas: number; template: { spec: { containers: { resources?: { limits?: { memory?: string } } }[] } } };
}

describe("Given the demo's repository and objects, with the controllers the demo starts", { timeout: 300_000 }, () => {
  const kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
  let env: GitOpsEnv;
  const kustomizations = ["namespaces", "web-dev", "web-prod", "api-dev", "api-prod", "releases"];

  const helmRelease = (name: string) => env.get<HelmRelease>(helmReleaseType.apiVersion, helmReleaseType.kind, name);
  const releasedAt = (name: string, version: number) => {
    let hr: HelmRelease | undefined;
    return eventually(
      async () => {
        hr = await helmRelease(name);
        const ready = hr?.status?.conditions?.find((c) => c.type === "Ready");
        return ready?.status === "True" &&
          ready.observedGeneration === hr?.metadata.generation &&
          hr?.status?.history?.[0]?.version === version
          ? hr
          : undefined;
      },
      {
        timeoutMs: 180_000,
        what: () =>
          `HelmRelease ${name} Ready at release v${version} (status: ${JSON.stringify(hr?.status)})\n` +
          `--- helm-controller\n${env.controllers.get("helm-controller").logTail(20)}`,
      },
    );
  };
  const shop = (namespace: string) => env.get<Deployment>("apps/v1", "Deployment", "shop", namespace);

  beforeAll(async () => {
    env = await startGitOpsEnv({
      kubeconfig,
      prefix: "e2e-demo",
      only: ["source-controller", "kustomize-controller", "helm-controller"],
      set: demoChartValues,
    });
    cpSync(join(repoRoot, "examples", "demo-repo"), env.repo.work, { recursive: true });
    await env.repo.commit({}, { message: "demo layout" });
    for (const obj of demoObjects({ namespace: env.namespace, gitUrl: env.repoUrl, gitSecret: "git-auth" })) {
      await env.client.apply(obj, { fieldManager: "capstan-e2e", force: true });
    }
  }, 180_000);
  afterAll(async () => env?.close(), 180_000);

  it("should bring every Kustomization and both HelmReleases Ready, each environment at its own replicas", async () => {
    for (const name of kustomizations) await env.ready("Kustomization", name, 240_000);
    for (const name of ["shop-dev", "shop-prod"]) {
      const hr = await releasedAt(name, 1);
      expect(hr.status?.history?.[0]).toMatchObject({ chartName: "shop", chartVersion: "0.1.0", status: "deployed" });
      // The HelmChart helm-controller made from the GitRepository, in the source's namespace.
      expect(hr.status?.helmChart).toBe(`${env.namespace}/${env.namespace}-${name}`);
    }
    const dev = await shop("demo-dev");
    const prod = await shop("demo-prod");
    expect(dev?.spec.replicas).toBe(1);
    expect(prod?.spec.replicas).toBe(3);
    expect(dev?.spec.template.spec.containers[0]?.resources?.limits?.memory).toBe("128Mi");
    expect(prod?.spec.template.spec.containers[0]?.resources?.limits?.memory).toBe("512Mi");

    // What `./dev demo` and `./dev demo status` print: a row per Kustomization, then one per HelmRelease.
    // The table reads through any getter; the harness's KubeClient is one once its element type is left to the table.
    const reader = {
      get: <T>(ref: Parameters<typeof env.client.get>[0]) => env.client.get(ref) as Promise<T | undefined>,
    };
    const rows = await collectRows(reader, env.namespace);
    expect(rows.map((r) => `${r.name} ${r.ready}`)).toEqual([
      ...kustomizations.map((k) => `${k} True`),
      "hr/shop-dev True",
      "hr/shop-prod True",
    ]);
    expect(rows.find((r) => r.name === "hr/shop-dev")).toMatchObject({ revision: "chart 0.1.0 (v1)", replicas: "1/1" });
    expect(rows.find((r) => r.name === "hr/shop-prod")).toMatchObject({
      revision: "chart 0.1.0 (v1)",
      replicas: "3/3",
    });
  });

  it("should upgrade only shop-prod when its values change in Git, as the demo's closing hint shows", async () => {
    const file = join(env.repo.work, "releases", "shop-prod.yaml");
    const edited = readFileSync(file, "utf8").replace("replicaCount: 3", "replicaCount: 4");
    expect(edited).toContain("replicaCount: 4");
    await env.repo.commit({ "releases/shop-prod.yaml": edited }, { message: "Scale shop in prod to 4" });
    await env.client.mergePatch(
      { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", name: "demo", namespace: env.namespace },
      { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": new Date().toISOString() } } },
    );
    const prod = await releasedAt("shop-prod", 2);
    expect(prod.status?.history?.map((h) => h.version)).toEqual([2, 1]);
    await eventually(async () => (await shop("demo-prod"))?.spec.replicas === 4, {
      timeoutMs: 60_000,
      what: "shop in demo-prod at 4 replicas",
    });
    const dev = await releasedAt("shop-dev", 1);
    expect(dev.status?.history).toHaveLength(1);
    expect((await shop("demo-dev"))?.spec.replicas).toBe(1);
  });
});
