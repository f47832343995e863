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
  type HelmChartCondition,
  HelmChartConditions,
  type HelmChartReason,
  HelmChartReasons,
  HelmEventAnnotations,
  type HelmReleaseCondition,
  HelmReleaseConditions,
  type HelmReleaseReason,
  HelmReleaseReasons,
  type HelmRepositoryCondition,
  HelmRepositoryConditions,
  type HelmRepositoryReason,
  HelmRepositoryReasons,
  helmChartNegativeConditions,
  helmRepositoryNegativeConditions,
  KustomizationConditions,
  type KustomizationReason,
  KustomizationReasons,
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
  helmChartType,
  helmReleaseType,
  helmRepositoryType,
  type KindDescriptor,
  kustomizationType,
  providerType,
  receiverType,
} from "./kinds.js";
export type { ObjectMeta } from "./meta.js";
