import { describe, expect, it } from "vitest";
import { type APIResourceList, Discovery } from "./discovery.js";
import { isNoKindMatch } from "./errors.js";

describe("Discovery", () => {
  it("Given a kind served by a group-version, should resolve it once and answer later calls from the cache", async () => {
    const fetched: string[] = [];
    const d = new Discovery(async (group, version) => {
      fetched.push(`${group}/${version}`);
      return {
        resources: [
          { name: "deployments", kind: "Deployment", namespaced: true },
          { name: "deployments/status", kind: "Deployment", namespaced: true },
          { name: "deployments/scale", kind: "Scale", namespaced: true },
        ],
      };
    });
    const r = await d.resourceFor("apps/v1", "Deployment");
    expect(r).toEqual({ group: "apps", version: "v1", kind: "Deployment", plural: "deployments", namespaced: true });
    await d.resourceFor("apps/v1", "Deployment");
    expect(fetched).toEqual(["apps/v1"]);
    await expect(d.resourceFor("apps/v1", "Scale")).rejects.toSatisfy(isNoKindMatch);
  });

  it("Given a kind missing at first and served later (a CRD installed), should find it on the next call", async () => {
    let served: APIResourceList | undefined;
    const d = new Discovery(async () => served);
    await expect(d.resourceFor("example.com/v1", "Widget")).rejects.toThrow(
      "resolve Widget in example.com/v1: NoKindMatch",
    );
    served = { resources: [{ name: "widgets", kind: "Widget", namespaced: false }] };
    expect((await d.resourceFor("example.com/v1", "Widget")).plural).toBe("widgets");
  });

  it("Given concurrent misses, should send one discovery request", async () => {
    let calls = 0;
    const d = new Discovery(async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 10));
      return { resources: [{ name: "configmaps", kind: "ConfigMap", namespaced: true }] };
    });
    await Promise.all([1, 2, 3].map(() => d.resourceFor("v1", "ConfigMap")));
    expect(calls).toBe(1);
  });
});
