// Each kind's own condition types, reasons and annotations, spelled as Flux's API packages spell them (sourcev1,
// kustomizev1, notificationv1), so `flux get`, `kubectl wait` and kstatus read Capstan's status as they read Flux's.
// The vocabulary every kind shares (Ready, Reconciling, Stalled, Healthy, Succeeded, Progressing, the reconcile
// annotations, ...) is @capstan/runtime's `Conditions`, `Reasons` and `Annotations` (Flux's pkg/apis/meta).

/** Condition status values. */
export const ConditionStatus = { True: "True", False: "False", Unknown: "Unknown" } as const;

// ── source.toolkit.fluxcd.io/v1 GitRepository ────────────────────────────────────────────────────────────────

/** GitRepository condition types besides Ready/Reconciling/Stalled. */
export const GitRepositoryConditions = {
  /** The stored artifact is present and matches its digest. */
  ArtifactInStorage: "ArtifactInStorage",
  /** Abnormal-true: the remote has a revision the stored artifact does not hold yet. */
  ArtifactOutdated: "ArtifactOutdated",
  /** The checkout's commit or tag signature verified (spec.verify). */
  SourceVerified: "SourceVerified",
  /** Abnormal-true: the remote could not be read. */
  FetchFailed: "FetchFailed",
  /** Abnormal-true: writing, reading or archiving in the artifact storage failed. */
  StorageOperationFailed: "StorageOperationFailed",
  /** Abnormal-true: an included GitRepository, or its artifact, is not available. */
  IncludeUnavailable: "IncludeUnavailable",
} as const;
export type GitRepositoryCondition = (typeof GitRepositoryConditions)[keyof typeof GitRepositoryConditions];

/** The abnormal-true GitRepository conditions (present only when something is wrong or pending). */
export const gitRepositoryNegativeConditions: readonly GitRepositoryCondition[] = [
  GitRepositoryConditions.StorageOperationFailed,
  GitRepositoryConditions.FetchFailed,
  GitRepositoryConditions.IncludeUnavailable,
  GitRepositoryConditions.ArtifactOutdated,
];

/** GitRepository condition and Event reasons. */
export const GitRepositoryReasons = {
  GitOperationSucceeded: "GitOperationSucceeded",
  GitOperationFailed: "GitOperationFailed",
  URLInvalid: "URLInvalid",
  AuthenticationFailed: "AuthenticationFailed",
  VerificationError: "VerificationError",
  DirCreationFailed: "DirectoryCreationFailed",
  StatOperationFailed: "StatOperationFailed",
  ReadOperationFailed: "ReadOperationFailed",
  AcquireLockFailed: "AcquireLockFailed",
  InvalidPath: "InvalidPath",
  ArchiveOperationFailed: "ArchiveOperationFailed",
  SymlinkUpdateFailed: "SymlinkUpdateFailed",
  ArtifactUpToDate: "ArtifactUpToDate",
  CacheOperationFailed: "CacheOperationFailed",
  /** IncludeUnavailable: a path of an included artifact could not be copied. */
  CopyOperationFailed: "CopyOperationFailed",
  InvalidProviderConfiguration: "InvalidProviderConfiguration",
  /** ArtifactOutdated: the remote moved to a revision not yet stored. */
  NewRevision: "NewRevision",
  /** IncludeUnavailable: the included GitRepository does not exist. */
  IncludeNotFound: "NotFound",
  /** IncludeUnavailable: the included GitRepository has no artifact yet. */
  NoArtifact: "NoArtifact",
  /** (Capstan) FetchFailed: the repository has no commits. */
  EmptyGitRepository: "EmptyGitRepository",
  /** Event: a new artifact was stored. */
  NewArtifact: "NewArtifact",
  /** Event: the stored artifact no longer matched its digest and was removed. */
  ArtifactVerificationFailed: "ArtifactVerificationFailed",
} as const;
export type GitRepositoryReason = (typeof GitRepositoryReasons)[keyof typeof GitRepositoryReasons];

/** Annotations of source-controller's Events (what notification-controller forwards as metadata). */
export const SourceEventAnnotations = {
  Revision: "source.toolkit.fluxcd.io/revision",
  Digest: "source.toolkit.fluxcd.io/digest",
} as const;

// ── kustomize.toolkit.fluxcd.io/v1 Kustomization ─────────────────────────────────────────────────────────────

/** Kustomization condition types besides Ready/Reconciling/Stalled (Healthy is shared: runtime's Conditions). */
export const KustomizationConditions = {
  Healthy: "Healthy",
} as const;

/** Kustomization condition and Event reasons. */
export const KustomizationReasons = {
  ArtifactFailed: "ArtifactFailed",
  BuildFailed: "BuildFailed",
  /** Flux's DecryptionFailedReason: a SOPS file or resource could not be decrypted (spec.decryption). */
  DecryptionFailed: "DecryptionFailed",
  HealthCheckFailed: "HealthCheckFailed",
  PruneFailed: "PruneFailed",
  DependencyNotReady: "DependencyNotReady",
  ReconciliationSucceeded: "ReconciliationSucceeded",
  ReconciliationFailed: "ReconciliationFailed",
  /** Flux's acl.AccessDeniedReason: a cross-namespace reference refused. */
  AccessDenied: "AccessDenied",
} as const;
export type KustomizationReason = (typeof KustomizationReasons)[keyof typeof KustomizationReasons];

// ── notification.toolkit.fluxcd.io Provider, Alert (v1beta3) and Receiver (v1) ──────────────────────────────

/** Receiver condition and Event reasons. */
export const ReceiverReasons = {
  Initialized: "Initialized",
  ValidationFailed: "ValidationFailed",
  TokenNotFound: "TokenNotFound",
  InvalidCELExpression: "InvalidCELExpression",
} as const;

/** Provider and Alert reasons (v1beta3 Providers and Alerts have no status: these reach Events and logs). */
export const ProviderReasons = {
  InvalidConfig: "InvalidConfig",
  NotificationDispatchFailed: "NotificationDispatchFailed",
} as const;
export const AlertReasons = ProviderReasons;

// ── helm.toolkit.fluxcd.io/v2 HelmRelease ────────────────────────────────────────────────────────────────────

/** HelmRelease condition types besides Ready/Reconciling/Stalled (helmv2's). */
export const HelmReleaseConditions = {
  /** The last release action (install, upgrade) succeeded. */
  Released: "Released",
  /** The last Helm test run succeeded (present only with spec.test.enable). */
  TestSuccess: "TestSuccess",
  /** A failed release was remediated (rolled back or uninstalled). */
  Remediated: "Remediated",
} as const;
export type HelmReleaseCondition = (typeof HelmReleaseConditions)[keyof typeof HelmReleaseConditions];

/** HelmRelease condition and Event reasons, as helmv2 spells them. */
export const HelmReleaseReasons = {
  InstallSucceeded: "InstallSucceeded",
  InstallFailed: "InstallFailed",
  UpgradeSucceeded: "UpgradeSucceeded",
  UpgradeFailed: "UpgradeFailed",
  TestSucceeded: "TestSucceeded",
  TestFailed: "TestFailed",
  RollbackSucceeded: "RollbackSucceeded",
  RollbackFailed: "RollbackFailed",
  UninstallSucceeded: "UninstallSucceeded",
  UninstallFailed: "UninstallFailed",
  /** The chart artifact could not be fetched, verified or loaded. */
  ArtifactFailed: "ArtifactFailed",
  /** The release could not be initialized: values, chart template, storage or client setup failed. */
  InitFailed: "InitFailed",
  /** The release's storage could not be read. */
  GetLastReleaseFailed: "GetLastReleaseFailed",
  DependencyNotReady: "DependencyNotReady",
  /** Flux's acl.AccessDeniedReason: a cross-namespace reference refused. */
  AccessDenied: "AccessDenied",
  /** Retries are exhausted: no more install or upgrade attempts until the spec changes. */
  RetriesExceeded: "RetriesExceeded",
  /** (Capstan) Remediated=False: a failed upgrade has no earlier successful revision to roll back to. */
  MissingRollbackTarget: "MissingRollbackTarget",
} as const;
export type HelmReleaseReason = (typeof HelmReleaseReasons)[keyof typeof HelmReleaseReasons];

/** Annotations of helm-controller's Events (what notification-controller forwards as metadata). */
export const HelmEventAnnotations = {
  Revision: "helm.toolkit.fluxcd.io/revision",
  OCIDigest: "helm.toolkit.fluxcd.io/oci-digest",
  Token: "helm.toolkit.fluxcd.io/token",
} as const;
// ── source.toolkit.fluxcd.io/v1 HelmRepository and HelmChart ─────────────────────────────────────────────────

/** HelmRepository condition types besides Ready/Reconciling/Stalled (Flux's sourcev1 names, shared with Git). */
export const HelmRepositoryConditions = {
  ArtifactInStorage: "ArtifactInStorage",
  ArtifactOutdated: "ArtifactOutdated",
  FetchFailed: "FetchFailed",
  StorageOperationFailed: "StorageOperationFailed",
} as const;
export type HelmRepositoryCondition = (typeof HelmRepositoryConditions)[keyof typeof HelmRepositoryConditions];

/** The abnormal-true HelmRepository conditions. */
export const helmRepositoryNegativeConditions: readonly HelmRepositoryCondition[] = [
  HelmRepositoryConditions.StorageOperationFailed,
  HelmRepositoryConditions.FetchFailed,
  HelmRepositoryConditions.ArtifactOutdated,
];

/** HelmRepository condition and Event reasons. */
export const HelmRepositoryReasons = {
  /** FetchFailed: the index could not be parsed or validated. */
  IndexationFailed: "IndexationFailed",
  URLInvalid: "URLInvalid",
  AuthenticationFailed: "AuthenticationFailed",
  /** FetchFailed: the index could not be downloaded (Flux's meta.FailedReason). */
  Failed: "Failed",
  DirCreationFailed: "DirectoryCreationFailed",
  ArchiveOperationFailed: "ArchiveOperationFailed",
  ArtifactUpToDate: "ArtifactUpToDate",
  /** ArtifactOutdated: the index changed. */
  NewRevision: "NewRevision",
  /** Event: a new index artifact was stored. */
  NewArtifact: "NewArtifact",
  ArtifactVerificationFailed: "ArtifactVerificationFailed",
} as const;
export type HelmRepositoryReason = (typeof HelmRepositoryReasons)[keyof typeof HelmRepositoryReasons];

/** HelmChart condition types besides Ready/Reconciling/Stalled. */
export const HelmChartConditions = {
  ArtifactInStorage: "ArtifactInStorage",
  ArtifactOutdated: "ArtifactOutdated",
  FetchFailed: "FetchFailed",
  /** Abnormal-true: the chart could not be packaged (metadata, values files, dependencies, packaging). */
  BuildFailed: "BuildFailed",
  StorageOperationFailed: "StorageOperationFailed",
  SourceVerified: "SourceVerified",
} as const;
export type HelmChartCondition = (typeof HelmChartConditions)[keyof typeof HelmChartConditions];

/** The abnormal-true HelmChart conditions. */
export const helmChartNegativeConditions: readonly HelmChartCondition[] = [
  HelmChartConditions.StorageOperationFailed,
  HelmChartConditions.FetchFailed,
  HelmChartConditions.BuildFailed,
  HelmChartConditions.ArtifactOutdated,
];

/** HelmChart condition and Event reasons (Flux's sourcev1 reasons and its chart build error reasons). */
export const HelmChartReasons = {
  /** Ready/ArtifactInStorage and Event: a chart was pulled from a HelmRepository. */
  ChartPullSucceeded: "ChartPullSucceeded",
  /** Ready/ArtifactInStorage and Event: a chart was packaged (from a GitRepository, or with values files merged). */
  ChartPackageSucceeded: "ChartPackageSucceeded",
  /** FetchFailed: the chart name, path or version matches nothing. */
  InvalidChartReference: "InvalidChartReference",
  /** FetchFailed: the chart could not be downloaded, or is not a chart. */
  ChartPullError: "ChartPullError",
  /** BuildFailed: Chart.yaml could not be read or rewritten. */
  MetadataPatchError: "MetadataPatchError",
  /** BuildFailed: a values file is missing or not a YAML map. */
  ValuesFilesError: "ValuesFilesError",
  /** BuildFailed: a dependency could not be resolved. */
  DependencyBuildError: "DependencyBuildError",
  /** BuildFailed: the chart could not be packaged. */
  ChartPackageError: "ChartPackageError",
  ChartVerificationError: "ChartVerificationError",
  /** FetchFailed: any other build failure. */
  Unknown: "Unknown",
  /** FetchFailed: the source object could not be read. */
  SourceUnavailable: "SourceUnavailable",
  /** Stalled: the source kind is not served. */
  UnsupportedSourceKind: "UnsupportedSourceKind",
  /** FetchFailed: the source has no artifact yet. */
  NoSourceArtifact: "NoSourceArtifact",
  /** ArtifactOutdated: a different chart name or version was resolved. */
  NewChart: "NewChart",
  URLInvalid: "URLInvalid",
  AuthenticationFailed: "AuthenticationFailed",
  DirCreationFailed: "DirectoryCreationFailed",
  ReadOperationFailed: "ReadOperationFailed",
  ArchiveOperationFailed: "ArchiveOperationFailed",
  ArtifactUpToDate: "ArtifactUpToDate",
  ArtifactVerificationFailed: "ArtifactVerificationFailed",
} as const;
export type HelmChartReason = (typeof HelmChartReasons)[keyof typeof HelmChartReasons];
// ── source.toolkit.fluxcd.io/v1 OCIRepository ────────────────────────────────────────────────────────────────

/** OCIRepository condition types besides Ready/Reconciling/Stalled (the same set as GitRepository's, less includes). */
export const OCIRepositoryConditions = {
  /** The stored artifact is present and matches its digest. */
  ArtifactInStorage: "ArtifactInStorage",
  /** Abnormal-true: the registry has a manifest the stored artifact does not hold yet. */
  ArtifactOutdated: "ArtifactOutdated",
  /** The artifact's signature verified (spec.verify). */
  SourceVerified: "SourceVerified",
  /** Abnormal-true: the registry could not be read. */
  FetchFailed: "FetchFailed",
  /** Abnormal-true: writing, reading or archiving in the artifact storage failed. */
  StorageOperationFailed: "StorageOperationFailed",
} as const;
export type OCIRepositoryCondition = (typeof OCIRepositoryConditions)[keyof typeof OCIRepositoryConditions];

/** The abnormal-true OCIRepository conditions (present only when something is wrong or pending). */
export const ociRepositoryNegativeConditions: readonly OCIRepositoryCondition[] = [
  OCIRepositoryConditions.StorageOperationFailed,
  OCIRepositoryConditions.FetchFailed,
  OCIRepositoryConditions.ArtifactOutdated,
];

/** OCIRepository condition and Event reasons (sourcev1's OCI reasons and the shared source reasons). */
export const OCIRepositoryReasons = {
  /** FetchFailed: the manifest or layer could not be pulled (unknown repository or tag, network, registry error). */
  OCIPullFailed: "OCIArtifactPullFailed",
  /** FetchFailed: the selected layer could not be extracted or copied (not a tarball, over the size cap). */
  OCILayerOperationFailed: "OCIArtifactLayerOperationFailed",
  URLInvalid: "URLInvalid",
  AuthenticationFailed: "AuthenticationFailed",
  /** FetchFailed: ref.semver or ref.semverFilter is invalid, or no tag matches. */
  ReadOperationFailed: "ReadOperationFailed",
  InvalidProviderConfiguration: "InvalidProviderConfiguration",
  /** SourceVerified: signature verification failed or is not supported. */
  VerificationError: "VerificationError",
  DirCreationFailed: "DirectoryCreationFailed",
  StatOperationFailed: "StatOperationFailed",
  AcquireLockFailed: "AcquireLockFailed",
  ArchiveOperationFailed: "ArchiveOperationFailed",
  SymlinkUpdateFailed: "SymlinkUpdateFailed",
  ArtifactUpToDate: "ArtifactUpToDate",
  /** ArtifactOutdated: the registry has a new manifest not yet stored. */
  NewRevision: "NewRevision",
  /** Event: a new artifact was stored. */
  NewArtifact: "NewArtifact",
  /** Event: the stored artifact no longer matched its digest and was removed. */
  ArtifactVerificationFailed: "ArtifactVerificationFailed",
} as const;
export type OCIRepositoryReason = (typeof OCIRepositoryReasons)[keyof typeof OCIRepositoryReasons];
