// The dependsOn graph drawn as SVG: one box per Kustomization (a link to its page, coloured by state), an arrow from
// each dependency to what depends on it. Plain SVG: no graph library for a few dozen boxes.
import type { ObjectRefView, Summary } from "../shared/types.js";
import { dependencyGraph, nodeH, nodeW } from "./depgraph.js";
import { appHref } from "./route.js";
import { stateLabel } from "./ui.js";

const clipLabel = (s: string, n = 24) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function DepGraph({ items, self }: { items: Summary[]; self: ObjectRefView }) {
  const g = dependencyGraph(items, self);
  if (g.nodes.length <= 1) return null;
  const at = new Map(g.nodes.map((n) => [n.key, n]));
  return (
    <section aria-labelledby="deps-h">
      <h2 id="deps-h">Dependencies</h2>
      <figure class="graph-wrap" aria-label="Dependency graph">
        <svg class="depgraph" width={g.width} height={g.height} viewBox={`0 0 ${g.width} ${g.height}`}>
          <title>Arrows point from a dependency to the Kustomization that depends on it</title>
          <defs>
            <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">
              <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
            </marker>
          </defs>
          {g.edges.map((e) => {
            const a = at.get(e.from);
            const b = at.get(e.to);
            if (!a || !b) return null;
            const x1 = a.x + nodeW;
            const y1 = a.y + nodeH / 2;
            const x2 = b.x;
            const y2 = b.y + nodeH / 2;
            const mid = (x1 + x2) / 2;
            return (
              <path
                key={`${e.from}->${e.to}`}
                data-edge={`${e.from}->${e.to}`}
                class="edge"
                d={`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`}
                marker-end="url(#arrow)"
              />
            );
          })}
          {g.nodes.map((n) => {
            const label = `${n.namespace}/${n.name}`;
            const state = n.state === "missing" ? "not found" : stateLabel[n.state];
            return (
              <a key={n.key} href={appHref(n.namespace, n.name)} aria-label={`${label}: ${state}`} data-node={n.key}>
                <title>{`${label}: ${state}`}</title>
                <rect
                  x={n.x}
                  y={n.y}
                  width={nodeW}
                  height={nodeH}
                  rx={6}
                  class={`node node-${n.state}${n.self ? " node-self" : ""}`}
                />
                <text x={n.x + 10} y={n.y + nodeH / 2 + 5}>
                  {clipLabel(n.namespace === self.namespace ? n.name : label)}
                </text>
              </a>
            );
          })}
        </svg>
      </figure>
      {g.truncated ? <p class="muted">More Kustomizations are related than drawn.</p> : null}
    </section>
  );
}
