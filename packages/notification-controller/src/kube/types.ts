// Kinds this controller reads besides its own, as the runtime's ResourceType.
import { alertType, gitRepositoryType, kustomizationType, providerType, receiverType } from "@capstan/api";
import type { KubeObject, ResourceType } from "@capstan/runtime";

export const secretType: ResourceType = {
  group: "",
  version: "v1",
  kind: "Secret",
  plural: "secrets",
  namespaced: true,
};

export const alertResource: ResourceType = alertType;
export const providerResource: ResourceType = providerType;
export const receiverResource: ResourceType = receiverType;

/** Kinds an Alert may select that Capstan serves, so their informers can be started on demand. */
export const watchableKinds: Readonly<Record<string, ResourceType>> = {
  GitRepository: gitRepositoryType,
  Kustomization: kustomizationType,
};

export interface SecretObject extends KubeObject {
  data?: Record<string, string>;
  type?: string;
}
