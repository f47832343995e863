import { describe, expect, it } from "vitest";
import { compareVersions, PreferredVersions } from "./preferred.js";

describe("preferred versions", () => {
  it("Given Kubernetes versions, should order GA before beta before alpha, higher first", () => {
    expect(["v1beta1", "v1alpha1", "v2", "v1", "v1beta2", "vfoo"].sort(compareVersions)).toEqual([
      "v2",
      "v1",
      "v1beta2",
      "v1beta1",
      "v1alpha1",
      "vfoo",
    ]);
  });

  it("Given APIServices, should prefer the highest versionPriority, then the Kubernetes version order", async () => {
    const svc = (group: string, version: string, versionPriority: number) => ({
      apiVersion: "apiregistration.k8s.io/v1",
      kind: "APIService",
      metadata: { name: `${version}.${group}` },
      spec: { group, version, versionPriority },
    });
    let lists = 0;
    const p = new PreferredVersions({
      list: async <T>() => {
        lists++;
        return {
          items: [
            svc("apps", "v1", 15),
            svc("example.com", "v1beta1", 100),
            svc("example.com", "v1", 100),
            svc("other.io", "v2", 10),
            svc("other.io", "v1", 20),
          ] as T[],
          resourceVersion: "1",
        };
      },
    });
    expect(await p.of("apps")).toBe("v1");
    expect(await p.of("example.com")).toBe("v1");
    expect(await p.of("other.io")).toBe("v1");
    expect(await p.of("")).toBe("v1");
    expect(lists).toBe(1);
    await expect(p.of("missing.io")).rejects.toThrow("API group 'missing.io' is not served");
  });
});
