import { isDeepStrictEqual } from "node:util";
import type { Client, KubeObject } from "../contracts.js";
import { reconcileRequestAnnotation } from "./object.js";

type WithStatus = KubeObject & { status?: Record<string, unknown> };

/** Echoes reconcile.fluxcd.io/requestedAt into status.lastHandledReconcileAt (what `flux reconcile` waits for). */
export function recordReconcileRequest(obj: WithStatus): void {
  const requested = obj.metadata.annotations?.[reconcileRequestAnnotation];
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
): Promise<boolean> {
  if (sameStatus(before, obj.status)) return false;
  await writeStatus(client, obj, fieldManager);
  return true;
}

/** The server-side apply of the whole status, unconditionally; returns the object as the apiserver stored it. */
export function writeStatus(client: Client, obj: WithStatus, fieldManager: string): Promise<KubeObject> {
  const { name, namespace } = obj.metadata;
  return client.applyStatus(
    {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      metadata: namespace ? { name, namespace } : { name },
      status: obj.status ?? {},
    },
    { fieldManager, force: true },
  );
}
