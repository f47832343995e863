// What the health step waits for: every applied object with spec.wait, else the spec.healthChecks entries; never
// the Kustomization itself (it would wait on its own reconcile).
import { KustomizationReasons } from "@capstan/api";
import { ReconcileError } from "@capstan/runtime";
import type { ChangeSetEntry } from "../apply/changeset.js";
import type { PreferredVersions } from "../health/preferred.js";
import { type ObjectRef, refOf } from "../kube.js";
import type { KustomizationObject } from "./types.js";

/** Flux reads a healthChecks entry by group and kind; no apiVersion means group `apps` (kept from v1beta1). */
async function healthCheckRef(
  obj: KustomizationObject,
  preferred: PreferredVersions | undefined,
  h: { apiVersion?: string; kind: string; name: string; namespace?: string },
): Promise<ObjectRef> {
  const namespace = h.namespace || obj.metadata.namespace;
  let apiVersion = h.apiVersion;
  if (!apiVersion) {
    if (!preferred) apiVersion = "apps/v1";
    else {
      try {
        apiVersion = `apps/${await preferred.of("apps")}`;
      } catch (cause) {
        throw new ReconcileError(
          `healthChecks entry ${h.kind}/${h.name}: cannot resolve the version of group apps${cause instanceof Error ? `: ${cause.message}` : ""}`,
          { reason: KustomizationReasons.HealthCheckFailed, cause },
        );
      }
    }
  }
  return { apiVersion, kind: h.kind, name: h.name, ...(namespace ? { namespace } : {}) };
}

export async function healthRefs(
  obj: KustomizationObject,
  applied: readonly ChangeSetEntry[],
  preferred: PreferredVersions | undefined,
): Promise<ObjectRef[]> {
  const self = (r: ObjectRef) =>
    r.kind === "Kustomization" && r.name === obj.metadata.name && r.namespace === obj.metadata.namespace;
  if (obj.spec.wait)
    return applied
      .filter((e) => e.action !== "skipped")
      .map((e) => refOf(e.object))
      .filter((r) => !self(r));
  const refs = await Promise.all((obj.spec.healthChecks ?? []).map((h) => healthCheckRef(obj, preferred, h)));
  return refs.filter((r) => !self(r));
}
