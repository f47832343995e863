// Target selectors of drift ignore rules, as Flux's jsondiff selectors: group, version, kind, name and namespace are
// anchored regular expressions, labelSelector and annotationSelector are Kubernetes label selector expressions. They
// are tenant input: a pattern that could backtrack without bound (a backreference, a repeated group that repeats) or
// does not compile is refused when the spec is checked, before it ever runs.
import type { IgnoreRule, Selector } from "@capstan/api";
import { type KubeObject, matchesLabelSelector, parseLabelSelector, unsafeRegex } from "@capstan/runtime";

/** Largest number of ignore rules, and of paths per rule, accepted. */
export const maxIgnoreRules = 100;
export const maxIgnorePaths = 100;

function anchored(pattern: string): RegExp {
  const unsafe = unsafeRegex(pattern);
  if (unsafe) throw new Error(unsafe);
  return new RegExp(`^(?:${pattern})$`);
}

/** A compiled selector: matches an object's apiVersion, kind, name, namespace, labels and annotations. */
export type ObjectMatcher = (obj: KubeObject) => boolean;

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf("/");
  return i < 0
    ? { group: "", version: apiVersion }
    : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

/** Compiles a selector; throws with a message naming what is wrong. Undefined selects every object. */
export function compileSelector(s: Selector | undefined): ObjectMatcher {
  if (!s) return () => true;
  const res: [keyof Selector, RegExp][] = [];
  for (const key of ["group", "version", "kind", "name", "namespace"] as const) {
    const pattern = s[key];
    if (pattern) {
      try {
        res.push([key, anchored(pattern)]);
      } catch (err) {
        throw new Error(`target.${key}: ${(err as Error).message}`);
      }
    }
  }
  const labels = s.labelSelector ? parseLabelSelector(s.labelSelector) : [];
  const annotations = s.annotationSelector ? parseLabelSelector(s.annotationSelector) : [];
  return (obj) => {
    const { group, version } = splitApiVersion(obj.apiVersion);
    const fields: Record<string, string> = {
      group,
      version,
      kind: obj.kind,
      name: obj.metadata.name,
      namespace: obj.metadata.namespace ?? "",
    };
    if (!res.every(([key, re]) => re.test(fields[key] ?? ""))) return false;
    const l = obj.metadata.labels ?? {};
    const a = obj.metadata.annotations ?? {};
    return matchesLabelSelector(labels, l) && matchesLabelSelector(annotations, a);
  };
}

/** Ignore rules compiled once per pass: the JSON pointers that apply to an object. */
export interface CompiledIgnoreRules {
  pathsFor(obj: KubeObject): string[];
}

/** Compiles spec.driftDetection.ignore; throws on a rule that cannot work (bad pointer, selector or pattern). */
export function compileIgnoreRules(rules: readonly IgnoreRule[] | undefined): CompiledIgnoreRules {
  const list = rules ?? [];
  if (list.length > maxIgnoreRules) throw new Error(`more than ${maxIgnoreRules} ignore rules`);
  const compiled = list.map((rule, i) => {
    if (rule.paths.length > maxIgnorePaths) throw new Error(`ignore[${i}]: more than ${maxIgnorePaths} paths`);
    for (const p of rule.paths) {
      if (p !== "" && !p.startsWith("/")) throw new Error(`ignore[${i}]: '${p}' is not a JSON pointer (RFC 6901)`);
      if (p.length > 1024) throw new Error(`ignore[${i}]: path longer than 1024 characters`);
    }
    try {
      return { paths: rule.paths, match: compileSelector(rule.target) };
    } catch (err) {
      throw new Error(`ignore[${i}].${(err as Error).message}`);
    }
  });
  return { pathsFor: (obj) => compiled.filter((r) => r.match(obj)).flatMap((r) => r.paths) };
}
