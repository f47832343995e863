import { describe, expect, it } from "vitest";
import { SourceIndex } from "./source-index.js";
import type { KustomizationObject } from "./types.js";

const ks = (name: string, source: string, namespace = "apps", sourceNamespace?: string): KustomizationObject =>
  ({
    apiVersion: "kustomize.toolkit.fluxcd.io/v1",
    kind: "Kustomization",
    metadata: { name, namespace },
    spec: {
      interval: "10m",
      prune: true,
      sourceRef: { kind: "GitRepository", name: source, ...(sourceNamespace ? { namespace: sourceNamespace } : {}) },
    },
  }) as KustomizationObject;

describe("SourceIndex", () => {
  it("Given Kustomizations on several sources, should map each source to those naming it (own namespace by default)", () => {
    const index = new SourceIndex();
    index.handlers.onAdd?.(ks("a", "repo"));
    index.handlers.onAdd?.(ks("b", "repo"));
    index.handlers.onAdd?.(ks("c", "other"));
    index.handlers.onAdd?.(ks("d", "repo", "team", "apps"));
    expect(index.dependents("GitRepository", "apps", "repo").sort()).toEqual(["apps/a", "apps/b", "team/d"]);
    expect(index.dependents("GitRepository", "apps", "other")).toEqual(["apps/c"]);
    expect(index.dependents("OCIRepository", "apps", "repo")).toEqual([]);
  });

  it("Given a sourceRef changed, then a deletion, should follow both", () => {
    const index = new SourceIndex();
    index.handlers.onAdd?.(ks("a", "repo"));
    index.handlers.onUpdate?.(ks("a", "repo"), ks("a", "other"));
    expect(index.dependents("GitRepository", "apps", "repo")).toEqual([]);
    expect(index.dependents("GitRepository", "apps", "other")).toEqual(["apps/a"]);
    index.handlers.onDelete?.(ks("a", "other"));
    expect(index.dependents("GitRepository", "apps", "other")).toEqual([]);
    expect(index.size).toBe(0);
  });
});
