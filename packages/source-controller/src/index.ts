// @capstan/source-controller: the GitRepository reconciler and the building blocks it is made of.
export {
  BuildError,
  type FailureCondition,
  GitError,
  type GitErrorKind,
  SourceError,
  StorageError,
  VerificationError,
} from "./errors.js";
export { decodeSecretData, type GitAuth, type ProxyConfig, type SecretData } from "./git/auth.js";
export type { CheckoutResult } from "./git/checkout.js";
export { checkoutStrategy, type GitRepositoryRef, selectSemverTag } from "./git/reference.js";
export type { ResolvedRef } from "./git/remote.js";
export { formatRevision, parseRevision } from "./git/revision.js";
export { defaultTimeoutMs, fetchSource, type GitSourceSpec, resolveSource } from "./git/source.js";
export { type GitRepositoryReconcilerOptions, gitRepositoryReconciler } from "./gitrepository/definition.js";
export { scrub } from "./scrub.js";
export { type ArtifactServer, type ArtifactServerOptions, startArtifactServer } from "./server/server.js";
export { type ArchiveOptions, type ArchiveResult, archiveDirectory } from "./storage/archive.js";
export { type IgnoreMatcher, loadIgnoreMatcher } from "./storage/ignore.js";
export { copyArtifactToPath } from "./storage/include.js";
export { type ObjectIdentity, Storage, type StorageOptions } from "./storage/storage.js";
export { normalizeMode, verifyCheckout } from "./verify/verify.js";
