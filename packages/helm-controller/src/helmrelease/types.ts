// The HelmRelease as the reconciler handles it, and what its steps pass along.
import type { HelmChart, HelmRelease } from "@capstan/api";
import type { Client, WithConditions } from "@capstan/runtime";
import type { ChartArtifact } from "../chart/fetch.js";
import type { ClusterAccess } from "../helm/access.js";
import type { HelmReleaseRecord } from "../helm/release.js";
import type { ReleaseStorage } from "../helm/storage.js";

export type HelmReleaseObject = HelmRelease & WithConditions;
export type HelmChartObject = HelmChart & WithConditions;

/** Where and as whom the release's helm commands and storage reads run. */
export interface Target {
  /** Client for the release's storage (impersonating, or the remote cluster's). */
  client: Client;
  access: ClusterAccess;
  impersonateUser?: string;
}

export interface State {
  started: number;
  /** Scratch directory of this pass (values file, chart, helm's HOME); removed at the end of the pass. */
  workDir?: string;
  chart?: { artifact: ChartArtifact; helmChart: string };
  values?: { values: Record<string, unknown>; digest: string; secrets: string[] };
  target?: Target;
  /** Where the release's records live (spec.storageNamespace). */
  storage?: ReleaseStorage;
  /** Stored revisions of the release, newest first. */
  releases?: HelmReleaseRecord[];
}

export function need<K extends keyof State>(state: State, key: K): NonNullable<State[K]> {
  const v = state[key];
  if (v === undefined || v === null) throw new Error(`internal: step order: ${String(key)} not set`);
  return v as NonNullable<State[K]>;
}
