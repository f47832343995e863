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
    w.wrote(cm("5"));
    w.wrote(cm("6"));
    expect(w.isOwn("MODIFIED", cm("5"))).toBe(true);
    expect(w.isOwn("MODIFIED", cm("6"))).toBe(true);
    expect(w.isOwn("MODIFIED", cm("7"))).toBe(false);
    expect(w.isOwn("DELETED", cm("7"))).toBe(false);
  });

  it("Given we pruned an object, should recognise its deletion until we create it again", () => {
    const w = new SelfWrites();
    w.deletedByUs(cm("5"));
    expect(w.isOwn("DELETED", cm("5"))).toBe(true);
    w.wrote(cm("9"));
    expect(w.isOwn("DELETED", cm("9"))).toBe(false);
  });
});
