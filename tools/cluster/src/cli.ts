#!/usr/bin/env node
// ./dev cluster up | down | status | env (cluster.sh runs this file from its sources: nothing to build first)
import { spawn } from "node:child_process";
import { mkdirSync, openSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBinaries } from "./binaries.js";
import { isAlive, killGroup } from "./processes.js";
import { kubeconfigFile, readState, stateDir, stateFile, supervisorLog } from "./state.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function up(): Promise<number> {
  const existing = readState();
  if (existing && isAlive(existing.supervisorPid)) {
    console.log(`already running (supervisor pid ${existing.supervisorPid}); KUBECONFIG=${kubeconfigFile}`);
    return 0;
  }
  mkdirSync(stateDir, { recursive: true });
  rmSync(stateFile, { force: true });
  console.log("building or finding the pinned binaries (a cold build takes several minutes) ...");
  await ensureBinaries();
  const out = openSync(supervisorLog, "w");
  // The supervisor runs the way this CLI runs: from dist/, or from the sources (cluster.sh) with the same node flags.
  const here = dirname(fileURLToPath(import.meta.url));
  const supervisor = join(here, import.meta.url.endsWith(".ts") ? "supervisor.ts" : "supervisor.js");
  const child = spawn(process.execPath, [...process.execArgv, supervisor], {
    detached: true,
    stdio: ["ignore", out, out],
  });
  child.unref();
  const started = Date.now();
  for (;;) {
    await sleep(250);
    const state = readState();
    if (state?.ready) {
      console.log(`control plane ready at ${state.server} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
      console.log(`  eval "$(./dev cluster env)"   # KUBECONFIG=${kubeconfigFile} and the pinned binaries on PATH`);
      console.log("  ./dev cluster down            # stop it");
      return 0;
    }
    if (state?.error || (child.pid !== undefined && !isAlive(child.pid))) {
      console.error(`control plane failed to start (log: ${supervisorLog}):\n${state?.error ?? ""}`);
      return 1;
    }
    if (Date.now() - started > 180_000) {
      console.error(`control plane not ready after 180s (log: ${supervisorLog})`);
      return 1;
    }
  }
}

async function down(): Promise<number> {
  const state = readState();
  if (!state) {
    console.log("not running");
    return 0;
  }
  killGroup(state.supervisorPid, "SIGTERM");
  for (let i = 0; i < 300 && isAlive(state.supervisorPid); i++) await sleep(50); // up to 15 s
  // A supervisor that could not clean up leaves its components behind: stop their groups directly.
  for (const pid of [state.supervisorPid, ...(state.pids ?? [])]) if (isAlive(pid)) killGroup(pid, "SIGKILL");
  if (state.dir) rmSync(state.dir, { recursive: true, force: true });
  rmSync(stateFile, { force: true });
  rmSync(kubeconfigFile, { force: true });
  console.log("stopped");
  return 0;
}

function status(): number {
  const state = readState();
  if (!state) {
    console.log("not running");
    return 1;
  }
  const alive = isAlive(state.supervisorPid);
  console.log(`supervisor pid ${state.supervisorPid}: ${alive ? "running" : "dead"}`);
  if (state.error) console.log(`error: ${state.error}`);
  if (state.server) console.log(`server: ${state.server}\nkubeconfig: ${kubeconfigFile}`);
  for (const pid of state.pids ?? []) console.log(`  pid ${pid}: ${isAlive(pid) ? "running" : "dead"}`);
  return alive && state.ready ? 0 : 1;
}

async function env(): Promise<number> {
  const { path } = await ensureBinaries();
  console.log(`export KUBECONFIG='${kubeconfigFile}'`);
  console.log(`export PATH='${path}':"$PATH"`);
  return 0;
}

const commands: Record<string, () => number | Promise<number>> = { up, down, status, env };
const name = process.argv[2] ?? "status";
const command = commands[name];
if (!command) {
  console.error(`usage: ./dev cluster up|down|status|env (unknown command ${name})`);
  process.exit(2);
}
process.exit(await command());
