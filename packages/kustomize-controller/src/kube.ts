// The runtime's contracts, as this package uses them. `Client` is narrowed to the calls the apply engine, prune and
// health checks make, so anything implementing the runtime's Client (KubeClient, an impersonating client) fits.
import type { ApiErrorShape, ObjectRef, Client as RuntimeClient } from "@capstan/runtime";

export type {
  ApiErrorShape,
  ApplyOptions,
  KubeObject,
  ObjectMeta,
  ObjectRef,
  ResourceType,
} from "@capstan/runtime";

export type Client = Pick<RuntimeClient, "resourceFor" | "get" | "apply" | "mergePatch" | "delete">;

export function isApiError(err: unknown): err is ApiErrorShape {
  return err instanceof Error && typeof (err as Partial<ApiErrorShape>).status === "number";
}

export function refOf(obj: {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}): ObjectRef {
  const ref: ObjectRef = { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name };
  if (obj.metadata.namespace) ref.namespace = obj.metadata.namespace;
  return ref;
}
