// Kinds this controller reads besides its own, as the runtime's ResourceType.
import type { KubeObject, ResourceType } from "@capstan/runtime";

export const secretType: ResourceType = {
  group: "",
  version: "v1",
  kind: "Secret",
  plural: "secrets",
  namespaced: true,
};

export interface SecretObject extends KubeObject {
  data?: Record<string, string>;
  type?: string;
}
