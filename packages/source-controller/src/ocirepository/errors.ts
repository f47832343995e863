// Failures of an OCIRepository reconcile, with the condition and reason Flux's source-controller reports for them.
import { OCIRepositoryConditions, OCIRepositoryReasons } from "@capstan/api";
import { SourceError, type SourceErrorOptions } from "../errors.js";

export type OciErrorKind =
  | "auth" // the registry refused the credentials (or none were given)
  | "credentials" // a Secret is missing or holds unusable data
  | "url" // spec.url cannot be used
  | "provider" // spec.provider is not supported
  | "unsupported" // a spec field Capstan does not implement yet
  | "ref" // spec.ref cannot be resolved (invalid semver, no matching tag)
  | "pull" // the manifest or blob could not be pulled (not found, network, registry error, digest mismatch)
  | "layer"; // the selected layer is missing, too large, or not a tarball

const reasons: Record<OciErrorKind, string> = {
  auth: OCIRepositoryReasons.AuthenticationFailed,
  credentials: OCIRepositoryReasons.AuthenticationFailed,
  url: OCIRepositoryReasons.URLInvalid,
  provider: OCIRepositoryReasons.InvalidProviderConfiguration,
  unsupported: OCIRepositoryReasons.InvalidProviderConfiguration,
  ref: OCIRepositoryReasons.ReadOperationFailed,
  pull: OCIRepositoryReasons.OCIPullFailed,
  layer: OCIRepositoryReasons.OCILayerOperationFailed,
};

/** A FetchFailed failure of an OCIRepository (Flux's condition for every registry-side problem). */
export class OciError extends SourceError {
  readonly kind: OciErrorKind;
  constructor(kind: OciErrorKind, message: string, options: SourceErrorOptions = {}) {
    super(OCIRepositoryConditions.FetchFailed, reasons[kind], message, options);
    this.name = "OciError";
    this.kind = kind;
  }
}
