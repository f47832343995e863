// @capstan/api: Flux's GitOps Toolkit APIs as CRDs, their generated models, and the constants that go with them.
export {
  disabledValue,
  enabledValue,
  KustomizeAnnotations,
  KustomizeLabels,
  type SsaPolicy,
  ssaPolicies,
} from "./annotations.js";
export {
  AlertReasons,
  ConditionStatus,
  type GitRepositoryCondition,
  GitRepositoryConditions,
  type GitRepositoryReason,
  GitRepositoryReasons,
  gitRepositoryNegativeConditions,
  KustomizationConditions,
  type KustomizationReason,
  KustomizationReasons,
  type OCIRepositoryCondition,
  OCIRepositoryConditions,
  type OCIRepositoryReason,
  OCIRepositoryReasons,
  ociRepositoryNegativeConditions,
  ProviderReasons,
  ReceiverReasons,
  SourceEventAnnotations,
} from "./conditions.js";
export { crdDirectory, loadCrds } from "./crds.js";
export type * from "./generated/models.gen.js";
export {
  alertType,
  allKinds,
  gitRepositoryType,
  type KindDescriptor,
  kustomizationType,
  ociRepositoryType,
  providerType,
  receiverType,
} from "./kinds.js";
export type { ObjectMeta } from "./meta.js";
