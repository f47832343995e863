// Errors that carry the condition and reason Flux's source-controller would report for them: the runtime's
// ReconcileError, so the reconcile loop marks the condition and stalls or retries without parsing messages.
import { type GitRepositoryCondition, GitRepositoryConditions, GitRepositoryReasons } from "@capstan/api";
import { ReconcileError } from "@capstan/runtime";

/** The GitRepository conditions a failure lands on (Flux's names). */
export type FailureCondition = Exclude<
  GitRepositoryCondition,
  typeof GitRepositoryConditions.ArtifactInStorage | typeof GitRepositoryConditions.ArtifactOutdated
>;

export interface SourceErrorOptions {
  cause?: unknown;
  /** A retry cannot fix it (bad spec): the reconciler stalls instead of backing off. */
  stalling?: boolean;
}

export class SourceError extends ReconcileError {
  declare readonly condition: FailureCondition;

  constructor(condition: FailureCondition, reason: string, message: string, options: SourceErrorOptions = {}) {
    super(message, {
      reason,
      condition,
      stalling: options.stalling ?? false,
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.name = "SourceError";
  }
}

export class GitError extends SourceError {
  /** What went wrong, for callers and tests that branch on it without reading the message. */
  readonly kind: GitErrorKind;
  constructor(kind: GitErrorKind, message: string, options: SourceErrorOptions = {}) {
    const reason =
      kind === "auth" || kind === "credentials" || kind === "proxy"
        ? GitRepositoryReasons.AuthenticationFailed
        : kind === "url"
          ? GitRepositoryReasons.URLInvalid
          : kind === "provider"
            ? GitRepositoryReasons.InvalidProviderConfiguration
            : kind === "emptyRepository"
              ? GitRepositoryReasons.EmptyGitRepository
              : GitRepositoryReasons.GitOperationFailed;
    super(GitRepositoryConditions.FetchFailed, reason, message, options);
    this.name = "GitError";
    this.kind = kind;
  }
}

export type GitErrorKind =
  | "auth" // the server rejected the credentials (or none were given)
  | "credentials" // the Secret is missing fields or holds unusable data
  | "url" // the URL cannot be used
  | "provider" // spec.provider is not supported
  | "proxy" // the proxy Secret is unusable (AuthenticationFailed, as Flux reports it)
  | "notFound" // repository or reference does not exist
  | "emptyRepository"
  | "unreachable" // DNS, connection refused, TLS failures
  | "hostKey" // SSH host key not in known_hosts
  | "timeout"
  | "other";

/** spec.verify failed: SourceVerified=False (a positive condition, so the runtime marks it False). */
export class VerificationError extends SourceError {
  constructor(message: string, options: SourceErrorOptions = {}) {
    super(GitRepositoryConditions.SourceVerified, GitRepositoryReasons.VerificationError, message, options);
    this.name = "VerificationError";
  }
}

export class StorageError extends SourceError {
  constructor(reason: string, message: string, options: SourceErrorOptions = {}) {
    super(GitRepositoryConditions.StorageOperationFailed, reason, message, options);
    this.name = "StorageError";
  }
}

/**
 * The archive could not be built from the checkout (a symlink escaping the tree, too large, ...). Flux's
 * GitRepository has no BuildFailed condition: it records every archive failure under StorageOperationFailed
 * (reason ArchiveOperationFailed), so kstatus and the flux CLI see the condition they know.
 */
export class BuildError extends SourceError {
  constructor(reason: string, message: string, options: SourceErrorOptions = {}) {
    super(GitRepositoryConditions.StorageOperationFailed, reason, message, options);
    this.name = "BuildError";
  }
}
