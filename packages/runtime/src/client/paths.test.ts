import { describe, expect, it } from "vitest";
import type { ResourceType } from "../contracts.js";
import { collectionPath, objectPath, parseApiVersion, queryString } from "./paths.js";

const deployments: ResourceType = {
  group: "apps",
  version: "v1",
  kind: "Deployment",
  plural: "deployments",
  namespaced: true,
};
const namespaces: ResourceType = {
  group: "",
  version: "v1",
  kind: "Namespace",
  plural: "namespaces",
  namespaced: false,
};

describe("paths", () => {
  it.each([
    ["v1", { group: "", version: "v1" }],
    ["apps/v1", { group: "apps", version: "v1" }],
    ["source.toolkit.fluxcd.io/v1", { group: "source.toolkit.fluxcd.io", version: "v1" }],
  ])("Given apiVersion %s, should split group and version", (apiVersion, expected) => {
    expect(parseApiVersion(apiVersion)).toEqual(expected);
  });

  it("Given namespaced and cluster-scoped types, should build the REST paths", () => {
    expect(collectionPath(deployments)).toBe("/apis/apps/v1/deployments");
    expect(collectionPath(deployments, "web")).toBe("/apis/apps/v1/namespaces/web/deployments");
    expect(objectPath(deployments, "api", "web", "status")).toBe("/apis/apps/v1/namespaces/web/deployments/api/status");
    expect(objectPath(namespaces, "web", "ignored")).toBe("/api/v1/namespaces/web");
  });

  it("Given a namespaced type without a namespace, should refuse rather than address the wrong object", () => {
    expect(() => objectPath(deployments, "api")).toThrow("Deployment is namespaced");
  });

  it("Given options with unset values, should leave them out of the query", () => {
    expect(queryString({ a: undefined, b: "", force: true, limit: 5 })).toBe("?force=true&limit=5");
  });
});
