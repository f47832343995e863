// Flux's release-target change: when the release name, the release namespace or the storage namespace of a
// HelmRelease changes, the release stored under the old ones (status.storageNamespace and the newest history
// snapshot) is uninstalled before the new one is installed, so no release is left behind unmanaged and the new
// install does not collide with the old objects.
import { HelmReleaseReasons } from "@capstan/api";
import { type ReconcileContext, ReconcileError } from "@capstan/runtime";
import { HelmSession, uninstallArgs } from "../helm/actions.js";
import { HelmCommandError } from "../helm/cli.js";
import { ReleaseStatus, releaseId } from "../helm/release.js";
import { ReleaseStorage } from "../helm/storage.js";
import { chartId } from "./history.js";
import { releaseNameOf, releaseNamespaceOf, storageNamespaceOf } from "./names.js";
import type { StepDeps } from "./steps.js";
import { timeoutOf } from "./timing.js";
import { type HelmReleaseObject, need, type State } from "./types.js";

/** Whether the release lives elsewhere than the spec now says (Flux's ReleaseTargetChanged, chart name aside). */
export function releaseTargetChanged(obj: HelmReleaseObject): boolean {
  const stored = obj.status?.storageNamespace;
  const cur = obj.status?.history?.[0];
  if (!stored || !cur) return false;
  return (
    stored !== storageNamespaceOf(obj) || cur.namespace !== releaseNamespaceOf(obj) || cur.name !== releaseNameOf(obj)
  );
}

export async function uninstallPreviousTarget(
  deps: StepDeps,
  ctx: ReconcileContext,
  obj: HelmReleaseObject,
  state: State,
): Promise<void> {
  if (!releaseTargetChanged(obj)) return;
  const cur = obj.status?.history?.[0];
  const stored = obj.status?.storageNamespace;
  if (!cur || !stored) return;
  const target = need(state, "target");
  const old = new ReleaseStorage(target.client, cur.name, cur.namespace, stored);
  const latest = (await old.list())[0];
  ctx.log.info(
    { release: `${cur.namespace}/${cur.name}`, storageNamespace: stored },
    "release target changed: uninstalling the previous release",
  );
  if (latest && latest.info.status !== ReleaseStatus.Uninstalled) {
    const timeoutMs = timeoutOf(obj, "uninstall");
    const session = new HelmSession({
      binary: deps.helmBinary,
      workDir: need(state, "workDir"),
      access: target.access,
      namespace: cur.namespace,
      ...(target.impersonateUser ? { impersonateUser: target.impersonateUser } : {}),
      redact: state.values?.secrets ?? [],
      signal: ctx.signal,
    });
    try {
      await old.around(() => session.run(uninstallArgs(cur.name, obj.spec.uninstall ?? {}, { timeoutMs }), timeoutMs));
    } catch (err) {
      if (!(err instanceof HelmCommandError)) throw err;
      throw new ReconcileError(
        `Helm uninstall failed for release ${releaseId(latest)} with chart ${chartId(latest)}: ${err.message}`,
        { reason: HelmReleaseReasons.UninstallFailed },
      );
    }
    ctx.events.event(
      obj,
      "Normal",
      HelmReleaseReasons.UninstallSucceeded,
      `Helm uninstall succeeded for release ${releaseId(latest)} with chart ${chartId(latest)}`,
    );
  }
  obj.status ??= {};
  obj.status.history = [];
  delete obj.status.storageNamespace;
}
