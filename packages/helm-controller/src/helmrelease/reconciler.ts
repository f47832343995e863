// The HelmRelease reconciler: Flux's helm-controller as a list of steps over the runtime's reconcile loop.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { HelmReleaseConditions, HelmReleaseReasons, helmChartType, helmReleaseType } from "@capstan/api";
import {
  type Cache,
  Conditions,
  getCondition,
  type ReconcileContext,
  type ReconcilerDefinition,
  traced,
  watch,
} from "@capstan/runtime";
import { HelmSession, uninstallArgs } from "../helm/actions.js";
import { ReleaseStatus, releaseId } from "../helm/release.js";
import { ReleaseStorage } from "../helm/storage.js";
import { deleteHelmChart } from "./chart-source.js";
import { chartId } from "./history.js";
import { helmChartRefOf, releaseNameOf, releaseNamespaceOf, storageNamespaceOf } from "./names.js";
import { ociRepositoryWatch } from "./oci-source.js";
import { endOfPass, helmReleaseSteps, type StepDeps } from "./steps.js";
import { targetFor } from "./target.js";
import { timeoutOf } from "./timing.js";
import type { HelmChartObject, HelmReleaseObject, State } from "./types.js";

export type HelmReleaseReconcilerDeps = StepDeps;

/** Deletion: uninstall the release (spec.uninstall), delete the HelmChart spec.chart created. Suspended: keep both. */
async function finalize(deps: StepDeps, ctx: ReconcileContext, obj: HelmReleaseObject): Promise<void> {
  if (obj.spec.suspend) return;
  await mkdir(deps.workRoot, { recursive: true });
  const workDir = await mkdtemp(join(deps.workRoot, "hr-delete-"));
  try {
    const target = await targetFor(deps.target, obj, workDir);
    const name = releaseNameOf(obj);
    const namespace = releaseNamespaceOf(obj);
    const storage = new ReleaseStorage(target.client, name, namespace, storageNamespaceOf(obj));
    const latest = (await storage.list())[0];
    if (latest && latest.info.status !== ReleaseStatus.Uninstalled) {
      const timeoutMs = timeoutOf(obj, "uninstall");
      const session = new HelmSession({
        binary: deps.helmBinary,
        workDir,
        access: target.access,
        namespace,
        ...(target.impersonateUser ? { impersonateUser: target.impersonateUser } : {}),
        redact: [],
        signal: ctx.signal,
        ...(deps.telemetry ? { telemetry: deps.telemetry } : {}),
        ...(deps.kubeCacheDir && !obj.spec.kubeConfig ? { kubeCacheDir: deps.kubeCacheDir } : {}),
        span: (name, fn) => traced(ctx, name, fn),
      });
      await storage.around(() => session.run(uninstallArgs(name, obj.spec.uninstall ?? {}, { timeoutMs }), timeoutMs));
      ctx.events.event(
        obj,
        "Normal",
        HelmReleaseReasons.UninstallSucceeded,
        `Helm uninstall succeeded for release ${releaseId(latest)} with chart ${chartId(latest)}`,
      );
    }
    if (obj.spec.chart && obj.status?.helmChart) await deleteHelmChart(ctx, obj.status.helmChart);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

const keyOf = (o: { metadata: { namespace?: string; name: string } }) =>
  `${o.metadata.namespace ?? ""}/${o.metadata.name}`;

/** A new artifact of a HelmChart enqueues the HelmReleases released from it. */
export const chartWatch = watch<HelmReleaseObject, HelmChartObject>(helmChartType, {
  map(chart, own: Cache<HelmReleaseObject>) {
    const id = keyOf(chart);
    return own
      .list()
      .filter((hr) => {
        const ref = helmChartRefOf(hr);
        return ref && `${ref.namespace}/${ref.name}` === id;
      })
      .map(keyOf);
  },
  shouldEnqueue(oldObj, newObj) {
    const a = oldObj.status?.artifact;
    const b = newObj.status?.artifact;
    const ready = (o: HelmChartObject) => getCondition(o, Conditions.Ready)?.status;
    return a?.revision !== b?.revision || a?.digest !== b?.digest || ready(oldObj) !== ready(newObj);
  },
  ignoreLabelSelector: true,
});

/** A HelmRelease that turns Ready (or changes) wakes the HelmReleases depending on it. */
export const dependencyWatch = watch<HelmReleaseObject, HelmReleaseObject>(helmReleaseType, {
  map(dep, own: Cache<HelmReleaseObject>) {
    const { namespace, name } = dep.metadata;
    return own
      .list()
      .filter((hr) =>
        (hr.spec.dependsOn ?? []).some((d) => d.name === name && (d.namespace ?? hr.metadata.namespace) === namespace),
      )
      .map(keyOf);
  },
  shouldEnqueue(oldObj, newObj) {
    const ready = (o: HelmReleaseObject) => `${getCondition(o, Conditions.Ready)?.status}`;
    return ready(oldObj) !== ready(newObj) || oldObj.status?.observedGeneration !== newObj.status?.observedGeneration;
  },
  ignoreLabelSelector: true,
});

export function helmReleaseReconciler(deps: HelmReleaseReconcilerDeps): ReconcilerDefinition<HelmReleaseObject, State> {
  return {
    name: "helmrelease",
    type: helmReleaseType,
    fieldManager: deps.fieldManager,
    conditions: {
      owned: [HelmReleaseConditions.Released, HelmReleaseConditions.TestSuccess, HelmReleaseConditions.Remediated],
      summarize: [HelmReleaseConditions.Remediated, HelmReleaseConditions.Released, HelmReleaseConditions.TestSuccess],
      negativePolarity: [HelmReleaseConditions.Remediated],
    },
    steps: helmReleaseSteps(deps),
    newState: () => ({ started: Date.now() }),
    endOfPass,
    finalize: (ctx, obj) => finalize(deps, ctx, obj),
    readyWhenEmpty: (obj) => ({
      reason: HelmReleaseReasons.InstallSucceeded,
      message: `Release reconciliation succeeded for ${obj.metadata.namespace}/${obj.metadata.name}`,
    }),
    watches: [chartWatch, dependencyWatch, ociRepositoryWatch],
  };
}
