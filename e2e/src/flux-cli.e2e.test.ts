// The real flux CLI (flux2 v2.9.4, built from its Go module by `bash tools/cluster/build-binaries.sh flux`) against the
// charts installed on the control plane: `flux check --pre`, `flux check`, `flux version` and `flux logs` find
// Capstan the way they find Flux. Optional: skipped until the flux binary has been built (a long cold Go build).
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { cachedTool } from "@capstan/cluster";
import {
  createTestNamespace,
  eventually,
  loadKubeConfig,
  type TestNamespace,
  testKubeconfigPath,
} from "@capstan/cluster/testing";
import { chartsDir, controllerNames, installChart } from "@capstan/devenv/charts";
import { KubeClient, type KubeObject } from "@capstan/runtime";
import { AppsV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parse } from "yaml";

const run = promisify(execFile);
const flux = await cachedTool("flux");
const appVersion = (chart: string) =>
  (parse(readFileSync(join(chartsDir, chart, "Chart.yaml"), "utf8")) as { appVersion: string }).appVersion;

describe.skipIf(!flux)("Given the charts installed and the flux CLI v2.9.4", { timeout: 180_000 }, () => {
  const kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
  const kc = loadKubeConfig(kubeconfig);
  let ns: TestNamespace;
  let uninstall: (() => Promise<void>) | undefined;

  const fluxCli = async (args: string[]) => {
    try {
      const { stdout, stderr } = await run(flux!, [...args, `--kubeconfig=${kubeconfig}`, "--timeout=90s"], {
        maxBuffer: 8 * 1024 * 1024,
        env: { ...process.env, HOME: process.env.HOME ?? "/tmp" },
      });
      return { code: 0, out: stdout + stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? 1, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
    }
  };

  beforeAll(async () => {
    ns = await createTestNamespace(kc, "flux-cli");
    // The controllers watch only this namespace: their pods are kwok's, nothing here reconciles other tests' objects.
    uninstall = await installChart(
      kubeconfig,
      ns.name,
      `flux-${ns.name.slice(-6)}`,
      controllerNames.map((c) => `${c}.watchAllNamespaces=false`),
    );
    // Helm keeps CRDs that exist already (the test run installed them unlabelled): give them the chart's labels, as a
    // fresh install would have them.
    const admin = new KubeClient({ kubeconfigPath: kubeconfig });
    for (const chart of controllerNames) {
      for (const file of readdirSync(join(chartsDir, chart, "crds"))) {
        const crd = parse(readFileSync(join(chartsDir, chart, "crds", file), "utf8")) as KubeObject;
        await admin.apply(crd, { fieldManager: "capstan-e2e-flux-cli", force: true });
      }
    }
    const apps = kc.makeApiClient(AppsV1Api);
    for (const name of controllerNames) {
      await eventually(
        async () => {
          const d = await apps.readNamespacedDeployment({ name, namespace: ns.name });
          return d.status?.conditions?.some((c) => c.type === "Available" && c.status === "True");
        },
        { timeoutMs: 90_000, what: `${name} Available` },
      );
    }
  }, 180_000);

  afterAll(async () => {
    await uninstall?.();
    await ns?.delete();
  }, 60_000);

  it("should pass `flux check --pre`", async () => {
    const { code, out } = await fluxCli(["check", "--pre"]);
    expect(out).toMatch(/Kubernetes 1\.\d+\.\d+ >=1\.\d+\.\d+-0/);
    expect(code, out).toBe(0);
  });

  it("should pass `flux check`, showing the distribution, every controller's image and every CRD", async () => {
    const { code, out } = await fluxCli(["check", "-n", ns.name]);
    expect(out).toContain(`distribution: flux-${appVersion("source-controller")}`);
    for (const name of controllerNames) expect(out).toContain(`ghcr.io/capstan-gitops/${name}:${appVersion(name)}`);
    for (const crd of [
      "gitrepositories.source.toolkit.fluxcd.io/v1",
      "kustomizations.kustomize.toolkit.fluxcd.io/v1",
    ]) {
      expect(out).toContain(crd);
    }
    expect(out).toContain("all checks passed");
    expect(code, out).toBe(0);
  });

  it("should print each controller's version with `flux version`", async () => {
    const { code, out } = await fluxCli(["version", "-n", ns.name]);
    expect(code, out).toBe(0);
    const info = parse(out) as Record<string, string>;
    expect(info.flux).toBe("v2.9.4");
    expect(info.distribution).toBe(`flux-${appVersion("source-controller")}`);
    for (const name of controllerNames) expect(info[name]).toBe(appVersion(name));
  });

  it("should find every controller's pod with `flux logs` and ask for its container manager", async () => {
    const { out } = await fluxCli(["logs", `--flux-namespace=${ns.name}`, "--all-namespaces", "--tail=1"]);
    // kwok's pods have no kubelet to serve their logs, so the fetch itself fails here; what the CLI must do is find a
    // pod per Deployment (it stops with "no Flux pods found" otherwise) and ask for the controller's container.
    expect(out).not.toContain("no Flux pods found");
    for (const name of controllerNames) {
      expect(out).toMatch(new RegExp(`containerLogs/${ns.name}/${name}-[a-z0-9]+-[a-z0-9]+/manager`));
    }
  });
});
