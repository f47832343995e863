import { describe, expect, it } from "vitest";
import { DependsOnIndex, SourceIndex } from "./source-index.js";
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

const dependent = (name: string, dependsOn: { name: string; namespace?: string }[], namespace = "apps") =>
  ({ ...ks(name, "repo", namespace), spec: { ...ks(name, "repo", namespace).spec, dependsOn } }) as KustomizationObject;

describe("DependsOnIndex", () => {
  it("Given dependsOn lists, should map each dependency to its dependents (own namespace when none or empty)", () => {
    const index = new DependsOnIndex();
    index.handlers.onAdd?.(dependent("app", [{ name: "infra" }, { name: "crds", namespace: "platform" }]));
    index.handlers.onAdd?.(dependent("web", [{ name: "infra", namespace: "" }]));
    index.handlers.onAdd?.(dependent("other", [{ name: "infra" }], "team"));
    index.handlers.onAdd?.(ks("lonely", "repo"));
    expect(index.dependents("apps", "infra").sort()).toEqual(["apps/app", "apps/web"]);
    expect(index.dependents("platform", "crds")).toEqual(["apps/app"]);
    expect(index.dependents("team", "infra")).toEqual(["team/other"]);
    // Kustomizations without dependsOn take no room.
    expect(index.size).toBe(3);
  });

  it("Given a dependsOn changed, then a deletion, should follow both", () => {
    const index = new DependsOnIndex();
    index.handlers.onAdd?.(dependent("app", [{ name: "infra" }]));
    index.handlers.onUpdate?.(dependent("app", [{ name: "infra" }]), dependent("app", [{ name: "db" }]));
    expect(index.dependents("apps", "infra")).toEqual([]);
    expect(index.dependents("apps", "db")).toEqual(["apps/app"]);
    index.handlers.onUpdate?.(dependent("app", [{ name: "db" }]), dependent("app", []));
    expect(index.dependents("apps", "db")).toEqual([]);
    index.handlers.onAdd?.(dependent("app", [{ name: "db" }]));
    index.handlers.onDelete?.(dependent("app", [{ name: "db" }]));
    expect(index.dependents("apps", "db")).toEqual([]);
    expect(index.size).toBe(0);
  });
});
