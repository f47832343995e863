// Small typed helpers over CustomObjectsApi for the compatibility tests.
import { CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { KindDescriptor } from "../kinds.js";

export interface Stored {
  metadata: { name: string; generation?: number };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

export function objectsClient(kc: KubeConfig, namespace: string) {
  const api = kc.makeApiClient(CustomObjectsApi);
  const base = (t: KindDescriptor) => ({ group: t.group, version: t.version, plural: t.plural, namespace });
  return {
    /** Creates as `kubectl apply` does: strict field validation, so an unknown field is an error, not pruned. */
    create: async (t: KindDescriptor, body: object): Promise<Stored> =>
      (await api.createNamespacedCustomObject({ ...base(t), body, fieldValidation: "Strict" })) as Stored,
    get: async (t: KindDescriptor, name: string): Promise<Stored> =>
      (await api.getNamespacedCustomObject({ ...base(t), name })) as Stored,
    /** Applies the way kustomize-controller applies a child object from Git: server-side apply, which refuses
     * fields the schema does not declare. */
    apply: async (t: KindDescriptor, body: object & { metadata: { name?: string } }): Promise<Stored> =>
      (await api.patchNamespacedCustomObject(
        {
          ...base(t),
          name: body.metadata.name ?? "",
          fieldManager: "capstan-api-test",
          force: true,
          body: { apiVersion: t.apiVersion, kind: t.kind, ...body },
        },
        setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
      )) as Stored,
    /** Writes status the way a controller does: server-side apply on the status subresource. */
    applyStatus: async (t: KindDescriptor, name: string, status: object): Promise<Stored> =>
      (await api.patchNamespacedCustomObjectStatus(
        {
          ...base(t),
          name,
          fieldManager: "capstan-api-test",
          force: true,
          body: { apiVersion: t.apiVersion, kind: t.kind, metadata: { name }, status },
        },
        setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
      )) as Stored,
  };
}

/**
 * The message of the Status the apiserver answered a failed request with (client-node puts the raw body on its
 * ApiException); fails when the request succeeded.
 */
export async function rejectionMessage(request: Promise<unknown>): Promise<string> {
  try {
    await request;
  } catch (err) {
    const { code, body } = err as { code?: number; body?: unknown };
    const status =
      typeof body === "string" ? (JSON.parse(body) as { message?: string }) : (body as { message?: string });
    return `${code}: ${status?.message ?? String(err)}`;
  }
  throw new Error("expected the apiserver to reject the request, but it accepted it");
}
