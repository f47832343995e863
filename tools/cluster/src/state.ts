import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { clusterPackageDir } from "./binaries.js";

/** Where `pnpm cluster up` keeps its kubeconfig, state and logs: <repo>/.capstan/cluster (gitignored). */
export const stateDir = resolve(clusterPackageDir, "..", "..", ".capstan", "cluster");
export const stateFile = join(stateDir, "state.json");
export const kubeconfigFile = join(stateDir, "kubeconfig");
export const supervisorLog = join(stateDir, "supervisor.log");

export interface ClusterState {
  supervisorPid: number;
  ready: boolean;
  error?: string;
  server?: string;
  dir?: string;
  path?: string;
  pids?: number[];
  startedAt: string;
  startSeconds?: number;
}

export function readState(): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile, "utf8")) as ClusterState;
  } catch {
    return undefined;
  }
}
