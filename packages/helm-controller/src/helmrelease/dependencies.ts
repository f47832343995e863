// spec.dependsOn: every HelmRelease named must be Ready for its current generation before this one is released.
import { HelmReleaseReasons, helmReleaseType } from "@capstan/api";
import { type Client, getCondition, StallingError, WaitingError } from "@capstan/runtime";
import type { HelmReleaseObject } from "./types.js";

export async function checkDependencies(
  client: Client,
  obj: HelmReleaseObject,
  o: { requeueAfterMs: number; noCrossNamespaceRefs: boolean },
): Promise<void> {
  const ns = obj.metadata.namespace ?? "default";
  for (const dep of obj.spec.dependsOn ?? []) {
    const depNs = dep.namespace ?? ns;
    const id = `${depNs}/${dep.name}`;
    if (o.noCrossNamespaceRefs && depNs !== ns) {
      throw new StallingError(`can't access '${id}' dependency, cross-namespace references have been blocked`, {
        reason: HelmReleaseReasons.AccessDenied,
      });
    }
    if (dep.readyExpr) {
      throw new StallingError(`dependency '${id}': readyExpr is not supported yet by Capstan's helm-controller`, {
        reason: HelmReleaseReasons.DependencyNotReady,
      });
    }
    const got = await client.get<HelmReleaseObject>({
      apiVersion: helmReleaseType.apiVersion,
      kind: helmReleaseType.kind,
      name: dep.name,
      namespace: depNs,
    });
    const ready = got ? getCondition(got, "Ready") : undefined;
    const current = got && got.status?.observedGeneration === got.metadata.generation;
    if (!got || !current || ready?.status !== "True") {
      throw new WaitingError(`dependency '${id}' is not ready`, {
        reason: HelmReleaseReasons.DependencyNotReady,
        requeueAfterMs: o.requeueAfterMs,
      });
    }
  }
}
