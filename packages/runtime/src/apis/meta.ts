// The generic vocabulary every controller shares, spelled as Flux's fluxcd/pkg/apis/meta spells it: the kstatus
// condition types, the reasons any kind may carry, and the reconcile annotations `flux` sets. Each kind's own
// conditions, reasons and annotations live beside its API types in @capstan/api.

/** Condition types with a meaning across kinds. */
export const Conditions = {
  /** The object's summary: True when the last reconcile of its generation succeeded. */
  Ready: "Ready",
  /** Abnormal-true: work in progress (kstatus InProgress). */
  Reconciling: "Reconciling",
  /** Abnormal-true: a retry cannot help until the spec changes (kstatus Failed). */
  Stalled: "Stalled",
  /** The last health assessment of what the object applied. */
  Healthy: "Healthy",
} as const;
export type ConditionType = (typeof Conditions)[keyof typeof Conditions];

/** Reasons Flux uses across its controllers. */
export const Reasons = {
  Succeeded: "Succeeded",
  Failed: "Failed",
  Progressing: "Progressing",
  ProgressingWithRetry: "ProgressingWithRetry",
  DependencyNotReady: "DependencyNotReady",
  Suspended: "Suspended",
  ReconciliationSucceeded: "ReconciliationSucceeded",
  ReconciliationFailed: "ReconciliationFailed",
  HealthCheckFailed: "HealthCheckFailed",
  InvalidCELExpression: "InvalidCELExpression",
  FeatureGateDisabled: "FeatureGateDisabled",
  /** (Capstan) a spec field the apiserver accepted that cannot work as written. */
  InvalidSpec: "InvalidSpec",
} as const;
export type Reason = (typeof Reasons)[keyof typeof Reasons];

/** Annotations any Flux kind honours. */
export const Annotations = {
  /** Any change of its value requests an immediate reconcile (`flux reconcile` sets it to the current time). */
  ReconcileRequest: "reconcile.fluxcd.io/requestedAt",
  /** Any change of its value requests a forced release (helm-controller); kept for tools that set it everywhere. */
  ForceRequest: "reconcile.fluxcd.io/forceAt",
} as const;

/** The finalizer every Flux controller puts on the objects it reconciles. */
export const Finalizer = "finalizers.fluxcd.io";

/** Values Flux compares annotations and labels against. */
export const Values = { Enabled: "enabled", Disabled: "disabled" } as const;
