// What the health step waits for: every applied object with spec.wait, else the spec.healthChecks entries; never
// the Kustomization itself (it would wait on its own reconcile).
import { KustomizationReasons } from "@capstan/api";
import { ReconcileError } from "@capstan/runtime";
import type { ChangeSetEntry, LiveVersion } from "../apply/changeset.js";
import type { CachedObject } from "../drift/watcher.js";
import { type CompiledExprs, findExprs } from "../health/cel.js";
import type { PreferredVersions } from "../health/preferred.js";
import type { HealthCache } from "../health/wait.js";
import { entryOf } from "../inventory/inventory.js";
import { type KubeObject, type ObjectRef, refOf } from "../kube.js";
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

/** The inventory id of a reference. */
export const idOfRef = (r: ObjectRef) =>
  entryOf({
    apiVersion: r.apiVersion,
    kind: r.kind,
    metadata: { name: r.name, ...(r.namespace ? { namespace: r.namespace } : {}) },
  }).id;

/** The drift watch's caches, as the health check reads them, and the turn-taking of all live reads. */
export interface WatchCache {
  lookup(ref: ObjectRef): CachedObject | undefined;
  beforeRead?(signal: AbortSignal | undefined): Promise<void>;
}

/**
 * The health check's view of the watch: only objects this reconcile applied (with its own, maybe impersonated,
 * client: it may read them), and only once the watch has seen the uid and generation the apply left. Anything else,
 * and objects that custom health expressions look into (the cache keeps only what the built-in rules read), is read
 * from the apiserver.
 */
export function appliedCache(
  watch: WatchCache,
  applied: readonly ChangeSetEntry[],
  exprs: readonly CompiledExprs[],
): HealthCache {
  const expected = new Map<string, LiveVersion>();
  for (const e of applied) if (e.live) expected.set(entryOf(e.object).id, e.live);
  return {
    lookup(ref) {
      const want = expected.get(idOfRef(ref));
      if (!want) return undefined;
      // The cache keeps only what the built-in rules read; an expression may read any field.
      if (findExprs(exprs, { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name } })) {
        return undefined;
      }
      const hit = watch.lookup(ref);
      if (!hit) return undefined;
      const obj = hit.obj;
      if (!obj || !caughtUp(obj, want)) return { state: "stale" };
      if (!hit.partial) return { state: "fresh", obj };
      return { state: "fresh", obj: { apiVersion: ref.apiVersion, kind: ref.kind, metadata: obj.metadata } };
    },
    ...(watch.beforeRead ? { beforeRead: (signal) => watch.beforeRead?.(signal) ?? Promise.resolve() } : {}),
  };
}

/**
 * Whether the watch's copy is the object the apply left, or newer: the same uid and at least its generation; for
 * kinds without a generation, at least its resourceVersion, where both are the decimal revisions etcd gives (the
 * apiserver calls them opaque: anything else never counts as caught up, and the check reads live after the interval).
 */
export function caughtUp(obj: KubeObject, want: LiveVersion): boolean {
  if (obj.metadata.uid !== want.uid) return false;
  if (want.generation !== undefined) return (obj.metadata.generation ?? 0) >= want.generation;
  const have = obj.metadata.resourceVersion;
  if (!have || !want.resourceVersion || !decimal.test(have) || !decimal.test(want.resourceVersion)) return false;
  return BigInt(have) >= BigInt(want.resourceVersion);
}

const decimal = /^[0-9]{1,20}$/;
