import { describe, expect, it } from "vitest";
import type { KubeObject } from "../contracts.js";
import { Store } from "./store.js";

describe("Store", () => {
  it("Given objects in several namespaces, should list per namespace and forget removed ones", () => {
    const s = new Store<KubeObject>();
    s.put({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "x" } });
    s.put({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "b", namespace: "y" } });
    s.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "x" } });
    expect(s.list("x").map((o) => o.metadata.name)).toEqual(["a"]);
    expect(s.list().length).toBe(3);
    expect(s.get("x")?.kind).toBe("Namespace");
    s.remove("x/a");
    expect(s.list("x")).toEqual([]);
    expect(s.get("x/a")).toBeUndefined();
  });

  it("Given a cached object, should refuse changes to it so no reader can corrupt what others see", () => {
    const s = new Store<KubeObject>();
    s.put({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "x", labels: { k: "v" } } });
    const cached = s.get("x/a")!;
    expect(() => {
      cached.metadata.labels!.k = "changed";
    }).toThrow(TypeError);
    const copy = structuredClone(cached);
    copy.metadata.labels!.k = "changed";
    expect(s.get("x/a")?.metadata.labels?.k).toBe("v");
  });
});
