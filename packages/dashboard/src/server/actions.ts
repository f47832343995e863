// Reconcile, suspend and resume, written as the flux CLI writes them: the reconcile.fluxcd.io/requestedAt annotation
// (on the Kustomization's source too, as `flux reconcile kustomization --with-source`), and spec.suspend. Performed as
// the user (impersonating them and their groups), so the apiserver's RBAC decides and its refusal is shown as it is.
import { Annotations, ApiError, type KubeClient } from "@capstan/runtime";
import type { Action, ActionResult } from "../shared/types.js";
import type { Principal } from "./auth/authenticate.js";
import type { ClusterStore } from "./store.js";

export const fieldManager = "capstan-dashboard";

/** Go's time.RFC3339Nano for a UTC time: trailing zeros of the fraction dropped, as the flux CLI writes it. */
export function requestedAtNow(now = new Date()): string {
  return now.toISOString().replace(/\.?0+Z$/, "Z");
}

export interface ActionRequest {
  action: Action;
  kind: string;
  namespace: string;
  name: string;
}

export async function performAction(
  client: KubeClient,
  store: ClusterStore,
  who: Principal,
  req: ActionRequest,
  now = new Date(),
): Promise<ActionResult & { status: number }> {
  const type = req.kind === "Deployment" ? undefined : store.typeOf(req.kind);
  if (!type) return { ok: false, status: 400, message: `no actions on kind ${req.kind}` };
  const as = who.insecure ? client : client.impersonate({ user: who.user, groups: who.groups });
  const ref = {
    apiVersion: `${type.group}/${type.version}`,
    kind: type.kind,
    name: req.name,
    namespace: req.namespace,
  };
  const requestedAt = requestedAtNow(now);
  const annotate = { metadata: { annotations: { [Annotations.ReconcileRequest]: requestedAt } } };
  try {
    switch (req.action) {
      case "reconcile": {
        if (req.kind === "Kustomization") {
          const src = store.summary(req.kind, req.namespace, req.name)?.source;
          const srcType = src ? store.typeOf(src.kind) : undefined;
          if (src && srcType) {
            await as.mergePatch(
              {
                apiVersion: `${srcType.group}/${srcType.version}`,
                kind: src.kind,
                name: src.name,
                namespace: src.namespace,
              },
              annotate,
              { fieldManager },
            );
          }
        }
        await as.mergePatch(ref, annotate, { fieldManager });
        return { ok: true, status: 200, message: `reconcile requested at ${requestedAt}` };
      }
      case "suspend":
        await as.mergePatch(ref, { spec: { suspend: true } }, { fieldManager });
        return { ok: true, status: 200, message: "suspended" };
      case "resume":
        await as.mergePatch(ref, { spec: { suspend: false }, ...annotate }, { fieldManager });
        return { ok: true, status: 200, message: "resumed" };
    }
  } catch (err) {
    if (err instanceof ApiError) return { ok: false, status: err.status || 502, message: err.message };
    return { ok: false, status: 502, message: `${req.action} ${req.kind} ${req.namespace}/${req.name} failed` };
  }
}
