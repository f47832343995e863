import { describe, expect, it } from "vitest";
import type { KubeObject } from "../kube.js";
import { SelfWrites } from "./self-writes.js";

const cm = (rv: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "a", namespace: "ns", resourceVersion: rv },
});

describe("SelfWrites", () => {
  it("Given our apply and cleanup wrote versions 5 and 6, should recognise both echoes and nothing else", () => {
    const w = new SelfWrites();
    w.wrote(cm("5"), "ns/apps");
    w.wrote(cm("6"), "ns/apps");
    expect(w.isOwn("MODIFIED", cm("5"), "ns/apps")).toBe(true);
    expect(w.isOwn("MODIFIED", cm("6"), "ns/apps")).toBe(true);
    expect(w.isOwn("MODIFIED", cm("7"), "ns/apps")).toBe(false);
    expect(w.isOwn("DELETED", cm("7"), "ns/apps")).toBe(false);
  });

  it("Given another Kustomization wrote the object under the same field manager, should not count it as ours", () => {
    const w = new SelfWrites();
    w.wrote(cm("5"), "ns/other");
    expect(w.isOwn("MODIFIED", cm("5"), "ns/apps")).toBe(false);
    expect(w.writerOf("MODIFIED", cm("5"))).toBe("ns/other");
    expect(w.isOwn("MODIFIED", cm("5"), "ns/other")).toBe(true);
  });

  it("Given we pruned an object, should recognise its deletion until we create it again", () => {
    const w = new SelfWrites();
    w.deletedByUs(cm("5"), "ns/apps");
    expect(w.isOwn("DELETED", cm("5"), "ns/apps")).toBe(true);
    expect(w.isOwn("DELETED", cm("5"), "ns/other")).toBe(false);
    w.wrote(cm("9"), "ns/apps");
    expect(w.isOwn("DELETED", cm("9"), "ns/apps")).toBe(false);
  });

  it("should forget the oldest object beyond its bound, and take no memory for entries it does not hold", () => {
    const w = new SelfWrites({ max: 3 });
    const obj = (name: string): KubeObject => ({ ...cm("1"), metadata: { ...cm("1").metadata, name } });
    for (const name of ["a", "b", "c", "d"]) w.wrote(obj(name), "ns/apps");
    expect(w.isOwn("MODIFIED", obj("a"), "ns/apps")).toBe(false);
    expect(["b", "c", "d"].map((n) => w.isOwn("MODIFIED", obj(n), "ns/apps"))).toEqual([true, true, true]);
    for (const name of ["e", "f", "g", "h"]) w.deletedByUs(obj(name), "ns/apps");
    expect(w.isOwn("DELETED", obj("e"), "ns/apps")).toBe(false);
    expect(w.isOwn("DELETED", obj("h"), "ns/apps")).toBe(true);

    // The default bound (100,000 objects) is not allocated up front: ten empty ones took about 69 MB when the
    // caches preallocated their arrays, and take a few KiB now.
    const before = process.memoryUsage();
    const kept = Array.from({ length: 10 }, () => new SelfWrites());
    const after = process.memoryUsage();
    const grown = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
    expect(kept).toHaveLength(10);
    expect(grown).toBeLessThan(8 * 1024 * 1024);
  });
});
