// Runs in the background for `pnpm cluster up`: owns the control plane until SIGTERM, then stops it and exits 0.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { startControlPlane } from "./control-plane.js";
import { type ClusterState, kubeconfigFile, stateDir, stateFile } from "./state.js";

const write = (state: ClusterState) => writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`);
const startedAt = new Date();
mkdirSync(stateDir, { recursive: true });
write({ supervisorPid: process.pid, ready: false, startedAt: startedAt.toISOString() });

try {
  const plane = await startControlPlane({ log: (m) => console.log(`${new Date().toISOString()} ${m}`) });
  writeFileSync(kubeconfigFile, plane.kubeconfigYaml, { mode: 0o600 });
  const shutdown = async (signal: string) => {
    console.log(`${new Date().toISOString()} ${signal}: stopping the control plane`);
    await plane.stop();
    rmSync(stateFile, { force: true });
    rmSync(kubeconfigFile, { force: true });
    process.exit(0);
  };
  for (const s of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.once(s, () => void shutdown(s));
  write({
    supervisorPid: process.pid,
    ready: true,
    server: plane.server,
    dir: plane.dir,
    path: plane.binaries.path,
    pids: plane.pids(),
    startedAt: startedAt.toISOString(),
    startSeconds: (Date.now() - startedAt.getTime()) / 1000,
  });
  console.log(`${new Date().toISOString()} ready at ${plane.server}`);
  // Keep the event loop alive until a signal arrives.
  setInterval(() => undefined, 1 << 30);
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  console.error(message);
  write({ supervisorPid: process.pid, ready: false, error: message, startedAt: startedAt.toISOString() });
  process.exit(1);
}
