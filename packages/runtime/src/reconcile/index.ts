export {
  type Condition,
  type ConditionStatus,
  getCondition,
  getConditions,
  hasCondition,
  isFalse,
  isReady,
  isReconciling,
  isStalled,
  isTrue,
  markFalse,
  markReconciling,
  markStalled,
  markTrue,
  markUnknown,
  ReadyCondition,
  ReconcilingCondition,
  removeCondition,
  rfc3339,
  StalledCondition,
  setCondition,
  type WithConditions,
} from "./conditions.js";
export { Controller, type ControllerDeps } from "./controller.js";
export {
  describeError,
  isStalling,
  type ReasonedErrorOptions,
  ReconcileError,
  StallingError,
  WaitingError,
} from "./errors.js";
export { setFinalizer } from "./finalizers.js";
export {
  apiVersionOf,
  jittered,
  refOf,
  specDuration,
  specOrRequestChanged,
  specSuspended,
} from "./object.js";
export { createReconcileHandler, type HandOut, type ReconcileDeps } from "./reconciler.js";
export { type Finished, finishPass, markFailure, type PassResult, type Timing } from "./result.js";
export { patchStatusIfChanged, recordReconcileRequest, sameStatus } from "./status.js";
export { type ConditionPolicy, summarizeReady, withRuntimeConditions } from "./summarize.js";
export { namedStep, nameOfStep, ReconcileTrace, traced } from "./trace.js";
export {
  parked,
  type ReadyEvent,
  type ReconcileContext,
  type ReconcilerDefinition,
  type Step,
  type StepResult,
  type StepsOutcome,
  stepRequeue,
  type Watch,
  watch,
} from "./types.js";
