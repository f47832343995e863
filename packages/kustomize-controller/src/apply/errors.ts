// Reading API errors the way fluxcd/pkg/ssa does.
import { type ApiErrorShape, isApiError } from "../kube.js";

const immutablePatterns = [/is\simmutable/, /immutable\sfield/];

/** Like kubectl: Conflict or Invalid from a dry-run, or a webhook/CEL message that says a field is immutable. */
export function isImmutableError(err: unknown): boolean {
  if (
    isApiError(err) &&
    (err.reason === "Conflict" || err.reason === "Invalid" || err.status === 409 || err.status === 422)
  ) {
    return true;
  }
  const message = err instanceof Error ? err.message : String(err);
  return immutablePatterns.some((re) => re.test(message));
}

export function isNotFound(err: unknown): boolean {
  return isApiError(err) && (err.status === 404 || err.reason === "NotFound");
}

export function reasonOf(err: unknown): string {
  return isApiError(err) ? (err as ApiErrorShape).reason : "Error";
}
