// Durations of a HelmRelease's spec, as Flux reads them: an action's own timeout, else spec.timeout, else 5m.
import { HelmReleaseReasons } from "@capstan/api";
import { parseDuration, StallingError } from "@capstan/runtime";
import type { HelmReleaseObject } from "./types.js";

export const defaultTimeoutMs = 5 * 60_000;

function parse(text: string | undefined, field: string): number | undefined {
  if (!text) return undefined;
  try {
    return parseDuration(text);
  } catch (cause) {
    throw new StallingError(`invalid ${field} '${text}'`, { reason: HelmReleaseReasons.InitFailed, cause });
  }
}

export type Action = "install" | "upgrade" | "test" | "rollback" | "uninstall";

export function timeoutOf(obj: HelmReleaseObject, action?: Action): number {
  const own = action ? obj.spec[action]?.timeout : undefined;
  return parse(own, `spec.${action}.timeout`) ?? parse(obj.spec.timeout, "spec.timeout") ?? defaultTimeoutMs;
}

/** Every duration of the spec parses (a bad one stalls before anything runs). */
export function checkDurations(obj: HelmReleaseObject): void {
  for (const a of ["install", "upgrade", "test", "rollback", "uninstall"] as const) timeoutOf(obj, a);
  parse(obj.spec.interval, "spec.interval");
}
