// Errors that carry the Flux condition reason the reconciler reports for them.

export class ArtifactError extends Error {
  override name = "ArtifactError";
  readonly reason = "ArtifactFailed";
}

export class BuildError extends Error {
  override name = "BuildError";
  readonly reason = "BuildFailed";
}

export class HealthCheckError extends Error {
  override name = "HealthCheckError";
  readonly reason = "HealthCheckFailed";
}

export class PruneError extends Error {
  override name = "PruneError";
  readonly reason = "PruneFailed";
}

/** Apply failures: the reconciler reports them as ReconciliationFailed, like Flux. */
export class ApplyError extends Error {
  override name = "ApplyError";
  readonly reason = "ReconciliationFailed";
}
