// Errors that carry the condition and reason Flux's source-controller would report for them, so the reconciler can
// map any failure onto status without parsing messages.

/** The abnormal-true conditions a GitRepository failure lands on (Flux's names). */
export type FailureCondition =
  | "FetchFailed"
  | "BuildFailed"
  | "StorageOperationFailed"
  | "IncludeUnavailable"
  | "SourceVerified";

export interface SourceErrorOptions {
  cause?: unknown;
  /** A retry cannot fix it (bad spec): the reconciler stalls instead of backing off. */
  stalling?: boolean;
}

export class SourceError extends Error {
  readonly condition: FailureCondition;
  readonly reason: string;
  readonly stalling: boolean;

  constructor(condition: FailureCondition, reason: string, message: string, options: SourceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SourceError";
    this.condition = condition;
    this.reason = reason;
    this.stalling = options.stalling ?? false;
  }
}

/** Flux's reason names used by this package. */
export const Reasons = {
  GitOperationFailed: "GitOperationFailed",
  GitOperationSucceeded: "GitOperationSucceeded",
  AuthenticationFailed: "AuthenticationFailed",
  URLInvalid: "URLInvalid",
  VerificationError: "VerificationError",
  Succeeded: "Succeeded",
  ArchiveOperationFailed: "ArchiveOperationFailed",
  DirCreationFailed: "DirectoryCreationFailed",
  StatOperationFailed: "StatOperationFailed",
  InvalidPath: "InvalidPath",
  StorageOperationFailed: "StorageOperationFailed",
  InvalidProviderConfiguration: "InvalidProviderConfiguration",
  EmptyGitRepository: "EmptyGitRepository",
} as const;

export class GitError extends SourceError {
  /** What went wrong, for callers and tests that branch on it without reading the message. */
  readonly kind: GitErrorKind;
  constructor(kind: GitErrorKind, message: string, options: SourceErrorOptions = {}) {
    const reason =
      kind === "auth" || kind === "credentials" || kind === "proxy"
        ? Reasons.AuthenticationFailed
        : kind === "url"
          ? Reasons.URLInvalid
          : kind === "provider"
            ? Reasons.InvalidProviderConfiguration
            : kind === "emptyRepository"
              ? Reasons.EmptyGitRepository
              : Reasons.GitOperationFailed;
    super("FetchFailed", reason, message, options);
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

export class VerificationError extends SourceError {
  constructor(message: string, options: SourceErrorOptions = {}) {
    super("SourceVerified", Reasons.VerificationError, message, options);
    this.name = "VerificationError";
  }
}

export class StorageError extends SourceError {
  constructor(reason: string, message: string, options: SourceErrorOptions = {}) {
    super("StorageOperationFailed", reason, message, options);
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
    super("StorageOperationFailed", reason, message, options);
    this.name = "BuildError";
  }
}
