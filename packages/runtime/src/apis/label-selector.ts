// Kubernetes label selector expressions (`a=b,c!=d,e in (x,y),f notin (z),g,!h`), as the ignore rules' and drift
// rules' labelSelector/annotationSelector fields of kustomize-controller and helm-controller use them. One parser for
// both; the selector is tenant input, so its length is capped before it is read.

/** One requirement of a selector, as a predicate over labels (or annotations). */
export type LabelRequirement = (labels: Record<string, string>) => boolean;

/** Longest selector accepted. */
export const maxLabelSelectorLength = 1024;

/** Parses a selector into predicates (all must hold); throws on malformed or oversized input. */
export function parseLabelSelector(selector: string): LabelRequirement[] {
  if (selector.length > maxLabelSelectorLength) {
    throw new Error(`selector longer than ${maxLabelSelectorLength} characters`);
  }
  const parts = selector.match(/([^,(]+(\([^)]*\))?)/g) ?? [];
  return parts
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p): LabelRequirement => {
      let m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(p);
      if (m) {
        const key = m[1] ?? "";
        const values = new Set((m[3] ?? "").split(",").map((v) => v.trim()));
        return m[2] === "in" ? (l) => values.has(l[key] ?? "\0") : (l) => !values.has(l[key] ?? "\0");
      }
      m = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(p);
      if (m) {
        const key = m[1] ?? "";
        const value = m[3] ?? "";
        return m[2] === "!=" ? (l) => l[key] !== value : (l) => l[key] === value;
      }
      m = /^(!?)([\w./-]+)$/.exec(p);
      if (m) {
        const key = m[2] ?? "";
        return m[1] ? (l) => !(key in l) : (l) => key in l;
      }
      throw new Error(`invalid selector requirement '${p}'`);
    });
}

/** Whether labels satisfy every requirement of a selector. */
export function matchesLabelSelector(
  requirements: readonly LabelRequirement[],
  labels: Record<string, string>,
): boolean {
  return requirements.every((r) => r(labels));
}
