// Where the demo keeps what outlives one command: <repo>/.capstan/demo (gitignored).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../paths.js";

export const demoDir = join(repoRoot, ".capstan", "demo");
export const demoStateFile = join(demoDir, "state.json");
export const demoLog = join(demoDir, "demo.log");
/** The working copy a person edits and pushes from. */
export const workDir = join(demoDir, "work");
export const clusterKubeconfig = join(repoRoot, ".capstan", "cluster", "kubeconfig");
export const demoNamespace = "capstan-system";

export interface DemoState {
  supervisorPid: number;
  ready: boolean;
  error?: string;
  gitUrl?: string;
  /** host:port of the demo's OCI registry (plain HTTP, no auth). */
  registry?: string;
  receiverUrl?: string;
  /** The dashboard, served by the supervisor with --insecure-local on loopback. */
  dashboardUrl?: string;
  controllerLogs?: string;
  pids?: number[];
}

export function readDemoState(): DemoState | undefined {
  try {
    return JSON.parse(readFileSync(demoStateFile, "utf8")) as DemoState;
  } catch {
    return undefined;
  }
}

/** The apps of examples/demo-repo and the Kustomizations the demo creates for them. */
export const apps = ["web", "api"] as const;
export const environments = ["dev", "prod"] as const;
/** The Helm-based apps: charts/<app> released by releases/<app>-<env>.yaml, one HelmRelease per environment. */
export const helmApps = ["shop"] as const;
export const kustomizationNames = [
  "namespaces",
  ...apps.flatMap((a) => environments.map((e) => `${a}-${e}`)),
  "releases",
];
export const helmReleaseNames = helmApps.flatMap((a) => environments.map((e) => `${a}-${e}`));

/** The line `./dev demo` (and `./dev demo status`) prints for the dashboard. */
export function dashboardLine(url: string): string {
  return `dashboard: ${url}   (no login; this machine only)`;
}
