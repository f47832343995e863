import { describe, expect, it } from "vitest";
import type { Summary } from "../shared/types.js";
import { summary } from "../test/summary.js";
import { dependencyGraph } from "./depgraph.js";

function ks(name: string, dependsOn: string[] = [], namespace = "team"): Summary {
  return {
    ...summary("Kustomization", namespace, name, "ready"),
    dependsOn: dependsOn.map((d) => ({ kind: "Kustomization", namespace, name: d })),
  };
}
const self = (name: string) => ({ kind: "Kustomization", namespace: "team", name });

describe("Given Kustomizations with dependsOn", () => {
  const items = [ks("infra"), ks("db", ["infra"]), ks("api", ["db", "infra"]), ks("web", ["api"]), ks("other")];

  it("should put dependencies left and dependents right, by longest path, with an edge per dependsOn", () => {
    const g = dependencyGraph(items, self("api"));
    const col = Object.fromEntries(g.nodes.map((n) => [n.name, n.x]));
    expect(Object.keys(col).sort()).toEqual(["api", "db", "infra", "web"]);
    expect(col.infra).toBeLessThan(col.db ?? 0);
    expect(col.db).toBeLessThan(col.api ?? 0);
    expect(col.api).toBeLessThan(col.web ?? 0);
    expect(g.edges.map((e) => `${e.from}->${e.to}`).sort()).toEqual([
      "team/api->team/web",
      "team/db->team/api",
      "team/infra->team/api",
      "team/infra->team/db",
    ]);
    expect(g.nodes.find((n) => n.self)?.name).toBe("api");
  });

  it("should draw a dependency that does not exist as missing", () => {
    const g = dependencyGraph([ks("web", ["gone"])], self("web"));
    expect(g.nodes.find((n) => n.name === "gone")?.state).toBe("missing");
  });

  it("should stop at a dependsOn cycle", () => {
    const g = dependencyGraph([ks("a", ["b"]), ks("b", ["a"])], self("a"));
    expect(g.nodes.map((n) => n.name).sort()).toEqual(["a", "b"]);
  });

  it("should draw only itself when nothing is related", () => {
    const g = dependencyGraph(items, self("other"));
    expect(g.nodes.map((n) => n.name)).toEqual(["other"]);
    expect(g.edges).toEqual([]);
  });
});
