// @capstan/helm-controller: the HelmRelease reconciler and the helm engine it drives.
export { controllerName, type HelmControllerOptions, registerHelmController } from "./controller.js";
export { behaviourFromFlags, helmControllerFlags } from "./flags.js";
export { type ClusterAccess, controllerAccess } from "./helm/access.js";
export { configDigest, decodeRelease, type HelmReleaseRecord, listReleases } from "./helm/release.js";
export { helmReleaseReconciler } from "./helmrelease/reconciler.js";
export type { HelmReleaseObject } from "./helmrelease/types.js";
