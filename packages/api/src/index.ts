// @capstan/api: Flux's GitOps Toolkit APIs as CRDs, their generated models, and the constants that go with them.
export {
  disabledValue,
  enabledValue,
  fluxFinalizer,
  forceRequestAnnotation,
  kustomizeForceAnnotation,
  kustomizeNameLabel,
  kustomizeNamespaceLabel,
  kustomizePruneAnnotation,
  kustomizeReconcileAnnotation,
  kustomizeSsaAnnotation,
  kustomizeSubstituteAnnotation,
  reconcileRequestAnnotation,
  type SsaPolicy,
  ssaPolicies,
} from "./annotations.js";
export {
  ConditionStatus,
  ConditionType,
  type ConditionTypeName,
  negativePolarityConditions,
  Reason,
  type ReasonName,
} from "./conditions.js";
export { crdDirectory, loadCrds } from "./crds.js";
export type * from "./generated/models.gen.js";
export {
  alertType,
  allKinds,
  gitRepositoryType,
  type KindDescriptor,
  kustomizationType,
  providerType,
  receiverType,
} from "./kinds.js";
export type { ObjectMeta } from "./meta.js";
