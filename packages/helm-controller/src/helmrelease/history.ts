// status.history as Flux writes it: one snapshot per stored revision of the release, newest first, read from Helm's
// storage, so status shows exactly what `helm history` shows.
import type { HelmReleaseSnapshot } from "@capstan/api";
import { configDigest, type HelmReleaseRecord, testHooks } from "../helm/release.js";

export function snapshotOf(rel: HelmReleaseRecord): HelmReleaseSnapshot {
  const hooks = testHooks(rel);
  const snap: HelmReleaseSnapshot = {
    digest: rel.digest,
    name: rel.name,
    namespace: rel.namespace,
    version: rel.version,
    status: rel.info.status,
    chartName: rel.chart.metadata.name,
    chartVersion: rel.chart.metadata.version,
    configDigest: configDigest(rel.config),
    firstDeployed: rel.info.first_deployed ?? rel.info.last_deployed ?? new Date(0).toISOString(),
    lastDeployed: rel.info.last_deployed ?? rel.info.first_deployed ?? new Date(0).toISOString(),
  };
  if (rel.chart.metadata.appVersion) snap.appVersion = rel.chart.metadata.appVersion;
  if (rel.info.deleted && !rel.info.deleted.startsWith("0001-")) snap.deleted = rel.info.deleted;
  if (Object.keys(hooks).length > 0) snap.testHooks = hooks;
  return snap;
}

export function historyOf(releases: readonly HelmReleaseRecord[]): HelmReleaseSnapshot[] {
  return releases.map(snapshotOf);
}

/** `<chart name>@<chart version>`, as Flux names a chart in messages. */
export function chartId(rel: HelmReleaseRecord): string {
  return `${rel.chart.metadata.name}@${rel.chart.metadata.version}`;
}
