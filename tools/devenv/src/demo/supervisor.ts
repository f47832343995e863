// Runs in the background for `pnpm demo`: a git server holding examples/demo-repo, the umbrella chart's controllers
// (source-, kustomize-, helm- and notification-controller) started as their charts start them, and the objects that
// point Capstan at the repository. Stops everything on SIGTERM.
import { execFile } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { gitRepositoryType } from "@capstan/api";
import { ensureCrds } from "@capstan/api/testing";
import { createTestRepo, startGitHttpServer } from "@capstan/gitserver";
import { KubeClient, type KubeObject } from "@capstan/runtime";
import { repoRoot } from "../harness/charts.js";
import { startControllers } from "../harness/controllers.js";
import { startDemoDashboard } from "./dashboard.js";
import { demoChartValues, demoObjects } from "./objects.js";
import { startDemoRegistry } from "./registry.js";
import { clusterKubeconfig, type DemoState, demoDir, demoNamespace, demoStateFile, workDir } from "./state.js";

const run = promisify(execFile);
const fieldManager = "capstan-demo";
const log = (m: string) => console.log(`${new Date().toISOString()} ${m}`);
const write = (s: DemoState) => writeFileSync(demoStateFile, `${JSON.stringify(s, null, 2)}\n`);

async function main(): Promise<void> {
  write({ supervisorPid: process.pid, ready: false });
  const client = new KubeClient({ kubeconfigPath: clusterKubeconfig });
  const apply = (obj: KubeObject) => client.apply(obj, { fieldManager, force: true });
  log("installing the CRDs");
  await ensureCrds(clusterKubeconfig);
  await apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: demoNamespace } });

  log("starting the git server with examples/demo-repo");
  const gitRoot = join(demoDir, "git");
  rmSync(gitRoot, { recursive: true, force: true });
  rmSync(workDir, { recursive: true, force: true });
  const git = await startGitHttpServer({ root: gitRoot });
  const repo = await createTestRepo(gitRoot, "demo.git");
  cpSync(join(repoRoot, "examples", "demo-repo"), repo.work, { recursive: true });
  await repo.commit(
    {},
    {
      message: "Initial demo layout: apps/<app>/base with dev and prod overlays, charts/shop with releases/shop-<env>",
    },
  );
  const gitUrl = `${git.url}/demo.git`;
  // The person's working copy pushes over HTTP, exactly the way a CI job or a laptop would.
  await run("git", ["clone", "-q", gitUrl, workDir]);
  await run("git", ["-C", workDir, "config", "user.name", "Capstan Demo"]);
  await run("git", ["-C", workDir, "config", "user.email", "demo@capstan.local"]);

  log("starting the OCI registry (plain HTTP, loopback)");
  const registry = await startDemoRegistry();

  log("starting the umbrella chart's controllers: source-, kustomize-, helm- and notification-controller");
  const controllers = await startControllers({
    kubeconfig: clusterKubeconfig,
    namespace: demoNamespace,
    // The demo applies and releases with the controllers' own rights; see charts/kustomize-controller and
    // charts/helm-controller for multi-tenancy.
    set: demoChartValues,
  });
  log("starting the dashboard (--insecure-local: no login, loopback only)");
  const dashboard = await startDemoDashboard(client);
  const stop = async (signal: string) => {
    log(`${signal}: stopping`);
    // Independent of each other: stopped together, so `./dev demo down` waits for the slowest, not for the sum.
    await Promise.all([dashboard.close(), controllers.stop(), git.close(), registry.close()]);
    rmSync(demoStateFile, { force: true });
    process.exit(0);
  };
  for (const s of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.once(s, () => void stop(s));

  log("creating the GitRepository, the Kustomizations (apps and HelmReleases) and a push Receiver");
  for (const obj of demoObjects({ namespace: demoNamespace, gitUrl })) await apply(obj);

  // A post-receive hook tells the Receiver about every push, so a sync starts at once instead of at the interval.
  await apply({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "push-token", namespace: demoNamespace },
    stringData: { token: "demo-push-token" },
  });
  await apply({
    apiVersion: "notification.toolkit.fluxcd.io/v1",
    kind: "Receiver",
    metadata: { name: "git-push", namespace: demoNamespace },
    spec: {
      type: "generic",
      secretRef: { name: "push-token" },
      resources: [{ apiVersion: gitRepositoryType.apiVersion, kind: gitRepositoryType.kind, name: "demo" }],
    },
  });
  const receiverAddr = controllers.get("notification-controller").addresses["receiver-addr"];
  let webhookPath: string | undefined;
  for (let i = 0; i < 120 && !webhookPath; i++) {
    const r = await client.get({
      apiVersion: "notification.toolkit.fluxcd.io/v1",
      kind: "Receiver",
      name: "git-push",
      namespace: demoNamespace,
    });
    webhookPath = (r?.status as { webhookPath?: string } | undefined)?.webhookPath;
    if (!webhookPath) await new Promise((r) => setTimeout(r, 500));
  }
  const receiverUrl = webhookPath && receiverAddr ? `http://${receiverAddr}${webhookPath}` : undefined;
  if (receiverUrl) {
    const hook = join(repo.bare, "hooks", "post-receive");
    writeFileSync(
      hook,
      `#!/bin/sh\n# Written by the Capstan demo: tell the notification-controller's Receiver about this push.\n` +
        `"${process.execPath}" -e 'fetch(process.argv[1], { method: "POST" }).catch(() => {})' '${receiverUrl}'\n`,
    );
    chmodSync(hook, 0o755);
  } else {
    log("the Receiver published no webhook path: pushes are picked up at the GitRepository's interval instead");
  }

  write({
    supervisorPid: process.pid,
    ready: true,
    gitUrl,
    registry: registry.host,
    ...(receiverUrl ? { receiverUrl } : {}),
    dashboardUrl: dashboard.url,
    controllerLogs: controllers.dir,
    pids: [...controllers.byName.values()].flatMap((c) => (c.process.pid ? [c.process.pid] : [])),
  });
  log("ready");
  setInterval(() => undefined, 1 << 30);
}

mkdirSync(demoDir, { recursive: true });
main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  console.error(message);
  write({ supervisorPid: process.pid, ready: false, error: message });
  process.exit(1);
});
