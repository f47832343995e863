// Annotation, label and finalizer keys as Flux spells them; tools written for Flux set these on Capstan's objects.

/** Any change of its value requests an immediate reconcile (`flux reconcile` sets it to the current time). */
export const reconcileRequestAnnotation = "reconcile.fluxcd.io/requestedAt";
/** Any change of its value requests a forced release (helm-controller); kept for tools that set it everywhere. */
export const forceRequestAnnotation = "reconcile.fluxcd.io/forceAt";

/** Set to `disabled` on an applied object to stop the kustomize-controller from changing it after creation. */
export const kustomizeReconcileAnnotation = "kustomize.toolkit.fluxcd.io/reconcile";
/** Server-side apply policy for one object: `Override` (default), `Merge`, `IfNotPresent` or `Ignore`. */
export const kustomizeSsaAnnotation = "kustomize.toolkit.fluxcd.io/ssa";
/** Set to `enabled` to recreate the object when an immutable field changes. */
export const kustomizeForceAnnotation = "kustomize.toolkit.fluxcd.io/force";
/** Set to `disabled` to keep the object when it leaves the build or its Kustomization is deleted. */
export const kustomizePruneAnnotation = "kustomize.toolkit.fluxcd.io/prune";
/** Set to `disabled` to skip post-build variable substitution for the object. */
export const kustomizeSubstituteAnnotation = "kustomize.toolkit.fluxcd.io/substitute";

/** Owner labels the kustomize-controller puts on every object it applies. */
export const kustomizeNameLabel = "kustomize.toolkit.fluxcd.io/name";
export const kustomizeNamespaceLabel = "kustomize.toolkit.fluxcd.io/namespace";

/** Annotation values Flux compares against. */
export const enabledValue = "enabled";
export const disabledValue = "disabled";
export const ssaPolicies = ["Override", "Merge", "IfNotPresent", "Ignore"] as const;
export type SsaPolicy = (typeof ssaPolicies)[number];

/** The finalizer every Flux controller puts on the objects it reconciles. */
export const fluxFinalizer = "finalizers.fluxcd.io";
