// The dependsOn graph around one Kustomization, laid out in columns: what it depends on (transitively) to the left,
// what depends on it to the right, so arrows run left to right in the order the controller applies them. Pure, so the
// layout is tested without a browser; DepGraph.tsx draws it as SVG.
import type { ObjectRefView, State, Summary } from "../shared/types.js";

export interface GraphNode {
  key: string;
  namespace: string;
  name: string;
  state: State | "missing";
  self: boolean;
  x: number;
  y: number;
}
export interface GraphEdge {
  /** The dependency. */
  from: string;
  /** The Kustomization that depends on it. */
  to: string;
}
export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  width: number;
  height: number;
  /** More Kustomizations were related than drawn. */
  truncated: boolean;
}

export const nodeW = 190;
export const nodeH = 34;
const colGap = 60;
const rowGap = 14;
const pad = 4;
const maxNodes = 60;

const keyOf = (r: ObjectRefView) => `${r.namespace}/${r.name}`;

export function dependencyGraph(items: Summary[], self: ObjectRefView): Graph {
  const byKey = new Map<string, Summary>();
  const dependents = new Map<string, string[]>();
  for (const s of items) {
    if (s.kind !== "Kustomization") continue;
    byKey.set(keyOf(s), s);
    for (const d of s.dependsOn ?? []) {
      const list = dependents.get(keyOf(d)) ?? [];
      list.push(keyOf(s));
      dependents.set(keyOf(d), list);
    }
  }
  const upstream = (k: string) => (byKey.get(k)?.dependsOn ?? []).map(keyOf);
  const downstream = (k: string) => dependents.get(k) ?? [];
  // Column: longest path from self, negative upstream, positive downstream (a dependsOn cycle is not followed twice).
  const column = new Map<string, number>([[keyOf(self), 0]]);
  let truncated = false;
  // May n go into column sign*level? Not self, not already on the other side, not past the node limit.
  const admit = (n: string, sign: 1 | -1): boolean => {
    if (n === keyOf(self) || (column.has(n) && Math.sign(column.get(n) ?? 0) !== sign)) return false;
    if (!column.has(n) && column.size >= maxNodes) {
      truncated = true;
      return false;
    }
    return true;
  };
  const walk = (next: (k: string) => string[], sign: 1 | -1) => {
    const depth = new Map<string, number>();
    let frontier = [keyOf(self)];
    for (let level = 1; frontier.length > 0 && level <= maxNodes; level++) {
      const following = frontier.flatMap(next).filter((n) => admit(n, sign) && (depth.get(n) ?? 0) < level);
      for (const n of following) {
        depth.set(n, level);
        column.set(n, sign * level);
      }
      frontier = [...new Set(following)];
    }
  };
  walk(upstream, -1);
  walk(downstream, 1);

  const cols = [...new Set(column.values())].sort((a, b) => a - b);
  const perCol = new Map<number, string[]>();
  for (const [k, c] of column) perCol.set(c, [...(perCol.get(c) ?? []), k]);
  const rows = Math.max(...[...perCol.values()].map((l) => l.length));
  const height = rows * (nodeH + rowGap) - rowGap + 2 * pad;
  const nodes: GraphNode[] = [];
  cols.forEach((c, ci) => {
    const list = (perCol.get(c) ?? []).sort();
    const offset = ((rows - list.length) * (nodeH + rowGap)) / 2;
    list.forEach((k, ri) => {
      const s = byKey.get(k);
      const [namespace = "", name = ""] = k.split("/");
      nodes.push({
        key: k,
        namespace,
        name,
        state: s ? s.state : "missing",
        self: c === 0,
        x: pad + ci * (nodeW + colGap),
        y: pad + offset + ri * (nodeH + rowGap),
      });
    });
  });
  const edges: GraphEdge[] = [];
  for (const k of column.keys()) {
    for (const d of upstream(k)) if (column.has(d)) edges.push({ from: d, to: k });
  }
  return { nodes, edges, width: cols.length * (nodeW + colGap) - colGap + 2 * pad, height, truncated };
}
