// The slice of @capstan/runtime's contracts (packages/runtime/src/contracts.ts) this package codes against. The
// runtime's index does not export them yet; these are structurally identical, so its KubeClient satisfies `Client`.
// TODO(runtime exports): replace with `export type { ... } from "@capstan/runtime"`.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  managedFields?: unknown[];
  [field: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface ApplyOptions {
  fieldManager: string;
  force?: boolean;
  dryRun?: boolean;
}

export interface ApiErrorShape extends Error {
  status: number;
  reason: string;
}

/** What this package needs of the runtime's Client. */
export interface Client {
  resourceFor(apiVersion: string, kind: string): Promise<ResourceType>;
  get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T | undefined>;
  apply<T extends KubeObject = KubeObject>(obj: KubeObject, options: ApplyOptions): Promise<T>;
  mergePatch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    patch: unknown,
    options?: { fieldManager?: string },
  ): Promise<T>;
  delete(ref: ObjectRef, options?: { propagationPolicy?: "Background" | "Foreground" | "Orphan" }): Promise<boolean>;
}

export function isApiError(err: unknown): err is ApiErrorShape {
  return err instanceof Error && typeof (err as Partial<ApiErrorShape>).status === "number";
}

export function refOf(obj: KubeObject): ObjectRef {
  const ref: ObjectRef = { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name };
  if (obj.metadata.namespace) ref.namespace = obj.metadata.namespace;
  return ref;
}
