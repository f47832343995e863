import { describe, expect, it } from "vitest";
import { InventoryIndex } from "./inventory-index.js";

describe("InventoryIndex", () => {
  it("Given two owners sharing a kind, should keep watching it until the last one lets go", () => {
    const index = new InventoryIndex();
    index.set("ns/a", [
      { id: "apps_web_apps_Deployment", v: "v1" },
      { id: "apps_cfg__ConfigMap", v: "v1" },
    ]);
    index.set("ns/b", [{ id: "apps_api_apps_Deployment", v: "v1" }]);
    expect([...index.kinds().keys()].sort()).toEqual(["/ConfigMap", "apps/Deployment"]);
    expect(index.kinds().get("/ConfigMap")).toEqual({ groupKind: "/ConfigMap", apiVersion: "v1", kind: "ConfigMap" });
    expect(index.ownersOf("apps_web_apps_Deployment")).toEqual(["ns/a"]);

    index.set("ns/a", [{ id: "apps_cfg__ConfigMap", v: "v1" }]);
    expect(index.ownersOf("apps_web_apps_Deployment")).toEqual([]);
    expect([...index.kinds().keys()].sort()).toEqual(["/ConfigMap", "apps/Deployment"]);

    index.remove("ns/b");
    expect([...index.kinds().keys()]).toEqual(["/ConfigMap"]);
    expect(index.holds("ns/a", "apps_cfg__ConfigMap")).toBe(true);
    index.set("ns/a", []);
    expect(index.kinds().size).toBe(0);
  });

  it("Given an invalid id in a hand-edited status, should ignore that entry", () => {
    const index = new InventoryIndex();
    index.set("ns/a", [
      { id: "garbage", v: "v1" },
      { id: "_ns1__Namespace", v: "v1" },
    ]);
    expect([...index.kinds().keys()]).toEqual(["/Namespace"]);
  });
});
