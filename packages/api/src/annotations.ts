// Each kind's annotation and label keys as Flux spells them; tools written for Flux set these on Capstan's objects.
// The reconcile-request annotations every kind honours are @capstan/runtime's `Annotations`.

/** Annotations and labels kustomize-controller reads on, or writes to, the objects it applies. */
export const KustomizeAnnotations = {
  /** `disabled`: stop changing the object after creation. */
  Reconcile: "kustomize.toolkit.fluxcd.io/reconcile",
  /** Server-side apply policy for one object: `Override` (default), `Merge`, `IfNotPresent` or `Ignore`. */
  SSA: "kustomize.toolkit.fluxcd.io/ssa",
  /** `enabled`: recreate the object when an immutable field changes. */
  Force: "kustomize.toolkit.fluxcd.io/force",
  /** `disabled`: keep the object when it leaves the build or its Kustomization is deleted. */
  Prune: "kustomize.toolkit.fluxcd.io/prune",
  /** `disabled`: skip post-build variable substitution for the object. */
  Substitute: "kustomize.toolkit.fluxcd.io/substitute",
  /** Event metadata: the revision applied. */
  Revision: "kustomize.toolkit.fluxcd.io/revision",
  /** Event metadata: the source's origin revision (`org.opencontainers.image.revision`), when it has one. */
  OriginRevision: "kustomize.toolkit.fluxcd.io/originRevision",
  /**
   * Event metadata, `update` on the Event of every successful reconcile: Flux's notification-controller updates a
   * commit status from it and leaves it out of other providers' notifications.
   */
  CommitStatus: "kustomize.toolkit.fluxcd.io/commit_status",
} as const;

/** Owner labels kustomize-controller puts on every object it applies. */
export const KustomizeLabels = {
  Name: "kustomize.toolkit.fluxcd.io/name",
  Namespace: "kustomize.toolkit.fluxcd.io/namespace",
} as const;

/** Annotation values Flux compares against. */
export const enabledValue = "enabled";
export const disabledValue = "disabled";
export const ssaPolicies = ["Override", "Merge", "IfNotPresent", "Ignore"] as const;
export type SsaPolicy = (typeof ssaPolicies)[number];
