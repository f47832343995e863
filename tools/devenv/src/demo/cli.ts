#!/usr/bin/env node
// pnpm demo [up] | status | down — the quickstart: a local control plane, the umbrella chart's controllers (source-,
// kustomize-, helm- and notification-controller), a git server with an example repository (Kustomize apps and a Helm
// chart released per environment), and Capstan syncing it.
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "../paths.js";
import { registryLines } from "./registry-lines.js";
import { clusterKubeconfig, dashboardLine, demoDir, demoLog, demoStateFile, readDemoState, workDir } from "./state.js";

// What talks to the apiserver (YAML parser, API types) loads only when needed: `status` without a control plane and
// `down` start in a blink.
const kube = async () => {
  const [{ kubeconfigReader }, table] = await Promise.all([import("./kube.js"), import("./table.js")]);
  return { client: kubeconfigReader(clusterKubeconfig), ...table };
};

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const clusterCli = join(repoRoot, "tools", "cluster", "dist", "cli.js");

/** process.kill(pid, 0): alive unless ESRCH (as @capstan/cluster's isAlive; that package takes long to load). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function clusterCommand(command: string): Promise<void> {
  const { stdout } = await run(process.execPath, [clusterCli, command]);
  process.stdout.write(stdout);
}

async function up(): Promise<number> {
  const existing = readDemoState();
  if (existing && isAlive(existing.supervisorPid)) {
    console.log("the demo is already running:");
    return status();
  }
  console.log("1/4 local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok)");
  await clusterCommand("up");

  console.log("2/4 git server, controllers and the objects that point Capstan at the demo repository");
  mkdirSync(demoDir, { recursive: true });
  rmSync(demoStateFile, { force: true });
  const out = openSync(demoLog, "w");
  const child = spawn(process.execPath, [join(import.meta.dirname, "supervisor.js")], {
    detached: true,
    stdio: ["ignore", out, out],
  });
  child.unref();
  const started = Date.now();
  for (;;) {
    await sleep(300);
    const state = readDemoState();
    if (state?.ready) break;
    if (state?.error || (child.pid !== undefined && !isAlive(child.pid))) {
      console.error(`the demo failed to start (log: ${demoLog}):\n${state?.error ?? ""}`);
      return 1;
    }
    if (Date.now() - started > 180_000) {
      console.error(`the demo did not start within 180s (log: ${demoLog})`);
      return 1;
    }
  }

  console.log("3/4 syncing (each line is a change of state)");
  const { client, collectRows, progressLine } = await kube();
  const seen = new Map<string, string>();
  const deadline = Date.now() + 180_000;
  let rows = await collectRows(client);
  for (;;) {
    for (const row of rows) {
      const line = progressLine(row);
      if (seen.get(row.name) !== line) {
        seen.set(row.name, line);
        console.log(`    ${line}`);
      }
    }
    if (rows.length > 0 && rows.every((r) => r.ready === "True")) break;
    if (Date.now() > deadline) {
      console.log("    (not all Ready after 3 minutes; the table below shows where they are)");
      break;
    }
    await sleep(1000);
    rows = await collectRows(client);
  }

  console.log("4/4 done\n");
  await status();
  console.log(`
Change the desired state and watch the cluster follow:
  cd ${workDir}
  sed -i 's/count: 3/count: 5/' apps/web/overlays/prod/kustomization.yaml
  git commit -qam "Scale web in prod to 5" && git push -q
  cd - && ./dev demo status        # web-prod shows the new revision and 5/5 replicas within seconds

  cd ${workDir}                    # the Helm app: releases/shop-<env>.yaml release charts/shop per environment
  sed -i 's/replicaCount: 3/replicaCount: 4/' releases/shop-prod.yaml
  git commit -qam "Scale shop in prod to 4" && git push -q
  cd - && ./dev demo status        # hr/shop-prod is upgraded (v2) to 4/4 replicas; hr/shop-dev stays at v1

Look around with kubectl:   eval "$(./dev cluster env)"; kubectl get gitrepositories,kustomizations,helmcharts,helmreleases -A
Logs:                       ${demoLog} and ${readDemoState()?.controllerLogs ?? "(controllers' log dir)"}
Stop everything:            ./dev demo down
`);
  return 0;
}

async function status(): Promise<number> {
  if (!existsSync(clusterKubeconfig)) {
    console.log("no control plane: run ./dev demo");
    return 1;
  }
  const { client, collectRows, formatTable } = await kube();
  console.log(formatTable(await collectRows(client)));
  const state = readDemoState();
  if (state?.gitUrl) console.log(`\ngit: ${state.gitUrl}   working copy: ${workDir}`);
  if (state?.registry) console.log(registryLines(state.registry));
  if (state?.dashboardUrl) console.log(dashboardLine(state.dashboardUrl));
  return 0;
}

async function down(): Promise<number> {
  const state = readDemoState();
  if (state && isAlive(state.supervisorPid)) {
    process.kill(state.supervisorPid, "SIGTERM");
    for (let i = 0; i < 300 && isAlive(state.supervisorPid); i++) await sleep(50); // up to 15 s
    for (const pid of [state.supervisorPid, ...(state.pids ?? [])]) {
      if (isAlive(pid)) process.kill(pid, "SIGKILL");
    }
  }
  rmSync(demoStateFile, { force: true });
  await clusterCommand("down");
  return 0;
}

const commands: Record<string, () => Promise<number>> = { up, status, down };
const name = process.argv[2] ?? "up";
const command = commands[name];
if (!command) {
  console.error(`usage: pnpm demo [up|status|down] (unknown command ${name})`);
  process.exit(2);
}
process.exit(await command());
