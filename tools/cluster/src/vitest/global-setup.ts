// One control plane per test run, shared by every project; tests read its kubeconfig with inject("capstanKubeconfig").
// The pinned Go binaries are resolved (and built on a cold cache) only when a control plane is needed: unit tests
// (CAPSTAN_NO_CLUSTER=1) never wait for a Kubernetes build.
import { rmSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { ensureBinaries } from "../binaries.js";
import "../testing.js";
import { type ControlPlane, startControlPlane } from "../control-plane.js";

let plane: ControlPlane | undefined;

// The plane's processes are detached (their own process groups), so a test run stopped by a signal (timeout(1), pkill,
// CI cancelling the job) would leave etcd and the apiserver running with init as their parent. Kill their groups
// synchronously on the way out: the async teardown never runs then.
function killPlaneNow(): void {
  for (const pid of plane?.pids() ?? []) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  if (plane) rmSync(plane.dir, { recursive: true, force: true });
  plane = undefined;
}

function killPlaneOnExit(): void {
  process.once("exit", killPlaneNow);
  for (const signal of ["SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      killPlaneNow();
      // Our listener replaced the default action; raise the signal again so the run ends as it would have.
      process.kill(process.pid, signal);
    });
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.CAPSTAN_NO_CLUSTER === "1") {
    project.provide("capstanBinPath", "");
    project.provide("capstanKubeconfig", "");
    return async () => undefined;
  }
  const { path } = await ensureBinaries();
  project.provide("capstanBinPath", path);
  if (process.env.CAPSTAN_TEST_KUBECONFIG) {
    project.provide("capstanKubeconfig", process.env.CAPSTAN_TEST_KUBECONFIG);
    return async () => undefined;
  }
  const started = Date.now();
  plane = await startControlPlane();
  killPlaneOnExit();
  console.log(`capstan: control plane ready at ${plane.server} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  project.provide("capstanKubeconfig", plane.kubeconfig);
  return async () => {
    await plane?.stop();
    plane = undefined;
  };
}
