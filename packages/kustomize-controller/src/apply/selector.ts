// Target selectors of ignore rules (kustomize's Selector: group/version/kind, name and namespace as anchored regular
// expressions, label and annotation selectors in Kubernetes' syntax).
import type { Selector } from "@capstan/api";
import type { KubeObject } from "../kube.js";
import { groupOf, versionOf } from "../object.js";

export type { Selector } from "@capstan/api";

type Requirement = (labels: Record<string, string>) => boolean;

/** Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h` into predicates; throws on malformed input. */
export function parseLabelSelector(selector: string): Requirement[] {
  const parts = selector.match(/([^,(]+(\([^)]*\))?)/g) ?? [];
  return parts
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p): Requirement => {
      let m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(p);
      if (m) {
        const key = m[1]!;
        const values = new Set(m[3]!.split(",").map((v) => v.trim()));
        return m[2] === "in" ? (l) => values.has(l[key] ?? "\0") : (l) => !values.has(l[key] ?? "\0");
      }
      m = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(p);
      if (m) {
        const [, key, op, value] = m as unknown as [string, string, string, string];
        return op === "!=" ? (l) => l[key] !== value : (l) => l[key] === value;
      }
      m = /^(!?)([\w./-]+)$/.exec(p);
      if (m) {
        const key = m[2]!;
        return m[1] ? (l) => !(key in l) : (l) => key in l;
      }
      throw new Error(`invalid selector requirement '${p}'`);
    });
}

const anchored = (re: string) => new RegExp(`^(?:${re})$`);

export function matchesSelector(obj: KubeObject, s: Selector | undefined): boolean {
  if (!s) return true;
  if (s.group !== undefined && s.group !== "" && groupOf(obj.apiVersion) !== s.group) return false;
  if (s.version && versionOf(obj.apiVersion) !== s.version) return false;
  if (s.kind && obj.kind !== s.kind) return false;
  if (s.name && !anchored(s.name).test(obj.metadata.name)) return false;
  if (s.namespace && !anchored(s.namespace).test(obj.metadata.namespace ?? "")) return false;
  const labels = obj.metadata.labels ?? {};
  if (s.labelSelector && !parseLabelSelector(s.labelSelector).every((r) => r(labels))) return false;
  const annotations = obj.metadata.annotations ?? {};
  if (s.annotationSelector && !parseLabelSelector(s.annotationSelector).every((r) => r(annotations))) return false;
  return true;
}
