// The real flux CLI (flux2 v2.9.4, built from its Go module by `bash tools/cluster/build-binaries.sh flux`) against the
// charts installed on the control plane: `flux check --pre`, `flux check`, `flux version` and `flux logs` find
// Capstan the way they find Flux; `flux get|reconcile|suspend|resume` on a HelmRelease that Capstan's controllers
// release. Optional: skipped until the flux binary has been built (a long cold Go build).
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { helmReleaseType, helmRepositoryType } from "@capstan/api";
import { cachedTool } from "@capstan/cluster";
import {
  createTestNamespace,
  eventually,
  loadKubeConfig,
  type TestNamespace,
  testKubeconfigPath,
} from "@capstan/cluster/testing";
import { chartsDir, controllerNames, installChart } from "@capstan/devenv/charts";
import { type Controllers, startControllers } from "@capstan/devenv/controllers";
import { type HelmRepoServer, startHelmRepoServer } from "@capstan/gitserver";
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

// The same CLI on Helm releases, against Capstan's source-controller and helm-controller running (as processes with
// their chart's args): what `flux get`, `flux reconcile --with-source`, `flux suspend` and `flux resume` read and
// write is Flux's API (spec.suspend, reconcile.fluxcd.io/requestedAt, status.lastHandledReconcileAt, conditions,
// history), so they work unchanged. Every source and release interval is 10m: only the CLI makes anything happen.
describe.skipIf(!flux)(
  "Given a HelmRelease released by Capstan's controllers and the flux CLI v2.9.4",
  {
    timeout: 240_000,
  },
  () => {
    const kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
    const kc = loadKubeConfig(kubeconfig);
    const admin = new KubeClient({ kubeconfigPath: kubeconfig });
    const fieldManager = "capstan-e2e-flux-cli";
    let ns: TestNamespace;
    let repo: HelmRepoServer;
    let controllers: Controllers | undefined;
    type HelmRelease = KubeObject & {
      spec: { suspend?: boolean };
      status?: {
        conditions?: { type: string; status: string }[];
        history?: { version: number; chartVersion: string; status: string }[];
      };
    };
    const helmRelease = () =>
      admin.get<HelmRelease>({
        apiVersion: helmReleaseType.apiVersion,
        kind: helmReleaseType.kind,
        name: "myapp",
        namespace: ns.name,
      });
    const fluxCli = async (args: string[]) => {
      try {
        const { stdout, stderr } = await run(
          flux!,
          [...args, "-n", ns.name, `--kubeconfig=${kubeconfig}`, "--timeout=90s"],
          {
            maxBuffer: 8 * 1024 * 1024,
            env: { ...process.env, HOME: process.env.HOME ?? "/tmp" },
          },
        );
        return { code: 0, out: stdout + stderr };
      } catch (err) {
        const e = err as { code?: number; stdout?: string; stderr?: string };
        return { code: e.code ?? 1, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
      }
    };
    /** The table row of `flux get ...` for `name`, split on its tab-padded columns. */
    const row = (out: string, name: string) =>
      out
        .split("\n")
        .map((l) => l.split("\t").map((c) => c.trim()))
        .find((cells) => cells[0] === name);

    beforeAll(async () => {
      ns = await createTestNamespace(kc, "flux-cli-helm");
      repo = await startHelmRepoServer();
      await repo.publish({ name: "myapp", version: "1.0.0", appVersion: "1.0.0", values: "message: default\n" });
      controllers = await startControllers({
        kubeconfig,
        namespace: ns.name,
        only: ["source-controller", "helm-controller"],
        set: [
          "source-controller.watchAllNamespaces=false",
          "helm-controller.watchAllNamespaces=false",
          "helm-controller.multitenancy.enabled=false",
        ],
      });
      await admin.apply(
        {
          apiVersion: helmRepositoryType.apiVersion,
          kind: helmRepositoryType.kind,
          metadata: { name: "charts", namespace: ns.name },
          spec: { url: repo.url, interval: "10m" },
        } as KubeObject,
        { fieldManager },
      );
      await admin.apply(
        {
          apiVersion: helmReleaseType.apiVersion,
          kind: helmReleaseType.kind,
          metadata: { name: "myapp", namespace: ns.name },
          spec: {
            interval: "10m",
            timeout: "1m",
            chart: {
              spec: {
                chart: "myapp",
                version: "1.x",
                interval: "10m",
                sourceRef: { kind: "HelmRepository", name: "charts" },
              },
            },
            values: { message: "hello" },
          },
        } as KubeObject,
        { fieldManager },
      );
      await eventually(
        async () => (await helmRelease())?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
        {
          timeoutMs: 120_000,
          what: () => `myapp Ready\n--- helm-controller\n${controllers?.get("helm-controller").logTail(20)}`,
        },
      );
    }, 240_000);

    afterAll(async () => {
      if (ns) {
        // Deleted while the controllers still run, so the finalizer uninstalls the release.
        await admin
          .delete({
            apiVersion: helmReleaseType.apiVersion,
            kind: helmReleaseType.kind,
            name: "myapp",
            namespace: ns.name,
          })
          .then(() => eventually(async () => (await helmRelease()) === undefined, { timeoutMs: 60_000 }))
          .catch(() => undefined);
      }
      await controllers?.stop();
      await repo?.close();
      await ns?.delete();
      admin.close();
    }, 120_000);

    it("should list the release, its HelmChart and its HelmRepository with `flux get`", async () => {
      const releases = await fluxCli(["get", "helmreleases"]);
      expect(releases.code, releases.out).toBe(0);
      // NAME REVISION SUSPENDED READY MESSAGE; the revision is the chart version of the latest release.
      expect(row(releases.out, "myapp")?.slice(0, 4)).toEqual(["myapp", "1.0.0", "False", "True"]);

      const charts = await fluxCli(["get", "sources", "chart"]);
      expect(charts.code, charts.out).toBe(0);
      expect(row(charts.out, `${ns.name}-myapp`)?.slice(0, 4)).toEqual([`${ns.name}-myapp`, "1.0.0", "False", "True"]);

      const repos = await fluxCli(["get", "sources", "helm"]);
      expect(repos.code, repos.out).toBe(0);
      const repoRow = row(repos.out, "charts");
      // The artifact's revision, which the CLI shortens to sha256:<first 8 hex>.
      expect(repoRow?.[1]).toMatch(/^sha256:[0-9a-f]{8,64}$/);
      expect(repoRow?.slice(2, 4)).toEqual(["False", "True"]);
    });

    it("should pick up a newly published chart version with `flux reconcile helmrelease --with-source`", async () => {
      await repo.publish({ name: "myapp", version: "1.1.0", appVersion: "1.1.0", values: "message: default\n" });
      const { code, out } = await fluxCli(["reconcile", "helmrelease", "myapp", "--with-source"]);
      expect(code, out).toBe(0);
      expect(out).toContain("applied revision 1.1.0");
      const hr = await helmRelease();
      expect(hr?.status?.history?.map((h) => `${h.version} ${h.chartVersion} ${h.status}`)).toEqual([
        "2 1.1.0 deployed",
        "1 1.0.0 superseded",
      ]);
    });

    it("should suspend and resume the release with `flux suspend|resume helmrelease`", async () => {
      const suspended = await fluxCli(["suspend", "helmrelease", "myapp"]);
      expect(suspended.code, suspended.out).toBe(0);
      expect((await helmRelease())?.spec.suspend).toBe(true);
      const listed = await fluxCli(["get", "helmreleases"]);
      expect(row(listed.out, "myapp")?.[2]).toBe("True");

      // A values change while suspended; `flux resume` sets suspend=false, asks for a reconcile and waits until the
      // controller has handled that request and the release is Ready: the change is released then.
      await admin.mergePatch(
        { apiVersion: helmReleaseType.apiVersion, kind: helmReleaseType.kind, name: "myapp", namespace: ns.name },
        { spec: { values: { message: "resumed" } } },
      );
      const resumed = await fluxCli(["resume", "helmrelease", "myapp"]);
      expect(resumed.code, resumed.out).toBe(0);
      expect(resumed.out).toContain("applied revision 1.1.0");
      const hr = await eventually(
        async () => {
          const r = await helmRelease();
          return r?.status?.history?.[0]?.version === 3 && r;
        },
        { timeoutMs: 60_000, what: "release v3 after resume" },
      );
      // flux writes suspend=false, which Flux's API omits (omitempty): not suspended either way.
      expect(hr.spec.suspend ?? false).toBe(false);
      expect(controllers?.permissionRefusals()).toEqual([]);
    });
  },
);
