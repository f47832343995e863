// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${var} is the substitution syntax itself
// postBuild variable substitution: a pure function over built objects and a variable map, as Flux's
// kustomize.SubstituteVariables. Each object is rendered to YAML, expanded, and parsed back, so `replicas: ${N}`
// becomes a number just as it does in Flux.
import { disabledValue, KustomizationReasons, KustomizeAnnotations } from "@capstan/api";
import { ReconcileError } from "@capstan/runtime";
import { parse, stringify } from "yaml";
import type { KubeObject } from "../kube.js";
import { fmtObject, isRecord } from "../object.js";
import { envsubst, SubstitutionError } from "./envsubst.js";

const varName = /^[_\p{L}][_\p{L}\p{N}]*$/u;

export interface SubstituteOptions {
  /** Fail on `${var}` with no value and no default (Flux's StrictPostBuildSubstitutions). */
  strict?: boolean;
  /**
   * Substitute even when no variable is defined (postBuild.substituteStrategy Always), so `${var:=default}` expands.
   * Otherwise (WithVariables, the default) no variable means no substitution at all, as in Flux.
   */
  always?: boolean;
}

/** Checks names as Flux does, so a typo in a key fails loudly rather than never matching. */
export function validateVariables(vars: Record<string, string>): void {
  for (const name of Object.keys(vars)) {
    if (!varName.test(name)) {
      throw new ReconcileError(`'${name}' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'`, {
        reason: KustomizationReasons.BuildFailed,
      });
    }
  }
}

export function substitutionDisabled(obj: KubeObject): boolean {
  return (
    obj.metadata.labels?.[KustomizeAnnotations.Substitute] === disabledValue ||
    obj.metadata.annotations?.[KustomizeAnnotations.Substitute] === disabledValue
  );
}

/** Returns new objects with `${...}` expanded; objects marked `substitute: disabled` pass through untouched. */
export function substituteObjects(
  objects: readonly KubeObject[],
  vars: Record<string, string>,
  options: SubstituteOptions = {},
): KubeObject[] {
  validateVariables(vars);
  if (Object.keys(vars).length === 0 && !options.always) return [...objects];
  const lookup = (name: string) => (Object.hasOwn(vars, name) ? vars[name] : undefined);
  return objects.map((obj) => {
    if (substitutionDisabled(obj)) return obj;
    const text = stringify(obj, { lineWidth: 0, minContentWidth: 0 });
    let expanded: string;
    try {
      expanded = envsubst(text, lookup, options);
    } catch (cause) {
      const detail = cause instanceof SubstitutionError ? cause.message : String(cause);
      throw new ReconcileError(`${fmtObject(obj)}: post-build substitution failed: ${detail}`, {
        reason: KustomizationReasons.BuildFailed,
        cause,
      });
    }
    if (expanded === text) return obj;
    let parsed: unknown;
    try {
      parsed = parse(expanded);
    } catch (cause) {
      throw new ReconcileError(`${fmtObject(obj)}: post-build substitution produced invalid YAML`, {
        reason: KustomizationReasons.BuildFailed,
        cause,
      });
    }
    if (!isRecord(parsed) || !isRecord(parsed.metadata)) {
      throw new ReconcileError(`${fmtObject(obj)}: post-build substitution produced a non-object`, {
        reason: KustomizationReasons.BuildFailed,
      });
    }
    return parsed as KubeObject;
  });
}

/** Values are single-line in Flux: newlines in a variable's value are dropped. */
export function normalizeValue(v: string): string {
  return v.replaceAll("\n", "");
}
