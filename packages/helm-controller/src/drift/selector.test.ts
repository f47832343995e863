import type { KubeObject } from "@capstan/runtime";
import { describe, expect, it } from "vitest";
import { compileIgnoreRules, compileSelector } from "./selector.js";

const obj: KubeObject = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "podinfo-web", namespace: "team-a", labels: { tier: "web" }, annotations: { env: "prod" } },
};

describe("Given a drift ignore rule's target selector", () => {
  it.each([
    [{ kind: "Deployment" }, true],
    [{ kind: "(HelmRelease|Deployment)" }, true],
    [{ kind: "Deploy" }, false],
    [{ group: "apps", version: "v1" }, true],
    [{ group: "" }, true],
    [{ name: "podinfo.*" }, true],
    [{ namespace: ".*-system" }, false],
    [{ labelSelector: "tier in (web,api)" }, true],
    [{ annotationSelector: "env notin (prod)" }, false],
  ])("should match %j: %s", (selector, want) => {
    expect(compileSelector(selector)(obj)).toBe(want);
  });

  it("should refuse patterns that could backtrack without bound, and bad pointers, before they run", () => {
    expect(() => compileSelector({ name: "(a+)+$" })).toThrow(/target.name: .*repeated group/);
    expect(() => compileIgnoreRules([{ paths: ["spec/replicas"] }])).toThrow(/not a JSON pointer/);
    expect(() => compileIgnoreRules([{ paths: ["/x"], target: { labelSelector: "a in (b" } }])).toThrow(/invalid/);
  });

  it("should give the paths of every rule whose target matches", () => {
    const rules = compileIgnoreRules([
      { paths: ["/spec/replicas"], target: { kind: "Deployment" } },
      { paths: ["/data"], target: { kind: "ConfigMap" } },
      { paths: ["/metadata/annotations/x"] },
    ]);
    expect(rules.pathsFor(obj)).toEqual(["/spec/replicas", "/metadata/annotations/x"]);
  });
});
