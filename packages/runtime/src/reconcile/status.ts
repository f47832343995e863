import { isDeepStrictEqual } from "node:util";
import { Annotations } from "../apis/meta.js";
import type { Client, KubeObject } from "../contracts.js";
import { refOf } from "./object.js";

type WithStatus = KubeObject & { status?: Record<string, unknown> };

/** Echoes reconcile.fluxcd.io/requestedAt into status.lastHandledReconcileAt (what `flux reconcile` waits for). */
export function recordReconcileRequest(obj: WithStatus): void {
  const requested = obj.metadata.annotations?.[Annotations.ReconcileRequest];
  if (requested === undefined) return;
  obj.status ??= {};
  obj.status.lastHandledReconcileAt = requested;
}

/** JSON equality: what the apiserver would store, so `undefined` fields and key order do not count as changes. */
export function sameStatus(a: unknown, b: unknown): boolean {
  const norm = (v: unknown) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
  return isDeepStrictEqual(norm(a), norm(b));
}

/**
 * One server-side apply of the whole status on the status subresource under the controller's field manager, only
 * when it differs from `before`. Returns whether a request was made. Fields the manager applied before and omits
 * now are removed by the apiserver, so dropped conditions go away.
 */
export async function patchStatusIfChanged(
  client: Client,
  obj: WithStatus,
  before: unknown,
  fieldManager: string,
  owned?: readonly string[],
): Promise<boolean> {
  if (sameStatus(before, obj.status)) return false;
  await writeStatus(client, obj, fieldManager, owned);
  return true;
}

/** How often a status write re-reads the object after a conflicting write by someone else before giving up. */
const conflictRetries = 5;

/**
 * The server-side apply of the whole status, unconditionally; returns the object as the apiserver stored it (and
 * moves `obj.metadata.resourceVersion` to it).
 *
 * status.conditions is an atomic list in Flux's CRDs, so an apply replaces it whole. With `owned` (the condition
 * types this controller owns), conditions of other types are not ours to drop: they are carried over from the object
 * as last read, and the apply is made conditional on that read's resourceVersion. If someone wrote in between (409
 * Conflict), the object is read again and the write retried with the conditions it holds now, so a condition another
 * field manager wrote is never lost to ours.
 */
export async function writeStatus(
  client: Client,
  obj: WithStatus,
  fieldManager: string,
  owned?: readonly string[],
): Promise<KubeObject> {
  const { name, namespace } = obj.metadata;
  const meta = namespace ? { name, namespace } : { name };
  const body = (status: Record<string, unknown>, resourceVersion?: string) => ({
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: resourceVersion ? { ...meta, resourceVersion } : meta,
    status,
  });
  if (!owned) return client.applyStatus(body(obj.status ?? {}), { fieldManager, force: true });
  let base: WithStatus = obj;
  for (let attempt = 0; ; attempt++) {
    const status = { ...(obj.status ?? {}) };
    const conditions = mergeConditions(obj, base, owned);
    if (conditions !== undefined) status.conditions = conditions;
    try {
      const stored = await client.applyStatus(body(status, base.metadata.resourceVersion), {
        fieldManager,
        force: true,
      });
      if (stored.metadata.resourceVersion) obj.metadata.resourceVersion = stored.metadata.resourceVersion;
      return stored;
    } catch (err) {
      if (!isConflict(err) || attempt >= conflictRetries) throw err;
      const live = await client.get<WithStatus>(refOf(obj));
      if (!live) throw err;
      base = live;
    }
  }
}

type ConditionLike = { type: string };

function conditionsOf(obj: WithStatus): ConditionLike[] | undefined {
  const c = obj.status?.conditions;
  return Array.isArray(c) ? (c as ConditionLike[]) : undefined;
}

/** Ours (the owned types, as `obj` has them now) followed by the others, as `base` has them. */
function mergeConditions(obj: WithStatus, base: WithStatus, owned: readonly string[]): ConditionLike[] | undefined {
  const mine = conditionsOf(obj);
  const theirs = (conditionsOf(base) ?? []).filter((c) => !owned.includes(c.type));
  if (mine === undefined && theirs.length === 0) return undefined;
  return [...(mine ?? []).filter((c) => owned.includes(c.type)), ...theirs];
}

function isConflict(err: unknown): boolean {
  return (err as { status?: unknown } | undefined)?.status === 409;
}
