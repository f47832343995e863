// Condition types and reasons with Flux's spelling (fluxcd/pkg apis/meta and each controller's api package), so
// `flux get`, `kubectl wait --for=condition=Ready` and kstatus read Capstan's status the way they read Flux's.

/** Condition types. */
export const ConditionType = {
  // kstatus summary conditions, on every kind with a status
  Ready: "Ready",
  Reconciling: "Reconciling",
  Stalled: "Stalled",
  Healthy: "Healthy",
  // source-controller
  ArtifactInStorage: "ArtifactInStorage",
  ArtifactOutdated: "ArtifactOutdated",
  SourceVerified: "SourceVerified",
  FetchFailed: "FetchFailed",
  BuildFailed: "BuildFailed",
  StorageOperationFailed: "StorageOperationFailed",
  IncludeUnavailable: "IncludeUnavailable",
} as const;
export type ConditionTypeName = (typeof ConditionType)[keyof typeof ConditionType];

/**
 * Condition types that are only present when True ("abnormal-true"), so their absence means all is well.
 * Summaries must not treat a missing one as Unknown.
 */
export const negativePolarityConditions: readonly string[] = [
  ConditionType.Reconciling,
  ConditionType.Stalled,
  ConditionType.ArtifactOutdated,
  ConditionType.FetchFailed,
  ConditionType.BuildFailed,
  ConditionType.StorageOperationFailed,
  ConditionType.IncludeUnavailable,
];

/** Condition reasons. */
export const Reason = {
  // shared (fluxcd/pkg apis/meta)
  Succeeded: "Succeeded",
  Failed: "Failed",
  Progressing: "Progressing",
  ProgressingWithRetry: "ProgressingWithRetry",
  DependencyNotReady: "DependencyNotReady",
  Suspended: "Suspended",
  ReconciliationSucceeded: "ReconciliationSucceeded",
  ReconciliationFailed: "ReconciliationFailed",
  InvalidCELExpression: "InvalidCELExpression",
  // source-controller
  GitOperationSucceeded: "GitOperationSucceeded",
  GitOperationFailed: "GitOperationFailed",
  URLInvalid: "URLInvalid",
  AuthenticationFailed: "AuthenticationFailed",
  VerificationError: "VerificationError",
  DirectoryCreationFailed: "DirectoryCreationFailed",
  StatOperationFailed: "StatOperationFailed",
  ReadOperationFailed: "ReadOperationFailed",
  AcquireLockFailed: "AcquireLockFailed",
  InvalidPath: "InvalidPath",
  ArchiveOperationFailed: "ArchiveOperationFailed",
  SymlinkUpdateFailed: "SymlinkUpdateFailed",
  ArtifactUpToDate: "ArtifactUpToDate",
  CacheOperationFailed: "CacheOperationFailed",
  NewRevision: "NewRevision",
  // kustomize-controller
  ArtifactFailed: "ArtifactFailed",
  BuildFailed: "BuildFailed",
  HealthCheckFailed: "HealthCheckFailed",
  PruneFailed: "PruneFailed",
  // notification-controller
  Initialized: "Initialized",
  ValidationFailed: "ValidationFailed",
  TokenNotFound: "TokenNotFound",
  InvalidConfig: "InvalidConfig",
  NotificationDispatchFailed: "NotificationDispatchFailed",
} as const;
export type ReasonName = (typeof Reason)[keyof typeof Reason];

/** Condition status values. */
export const ConditionStatus = { True: "True", False: "False", Unknown: "Unknown" } as const;
