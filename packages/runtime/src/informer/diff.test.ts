import { describe, expect, it } from "vitest";
import type { KubeObject } from "../contracts.js";
import { diffSnapshot } from "./diff.js";

const cm = (name: string, rv: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "ns", resourceVersion: rv },
});

describe("diffSnapshot", () => {
  const current = new Map([
    ["ns/same", cm("same", "1")],
    ["ns/changed", cm("changed", "2")],
    ["ns/gone", cm("gone", "3")],
  ]);

  it("Given a fresh list after missed events, should report each change once and leave unchanged objects alone", () => {
    const fresh = [cm("same", "1"), cm("changed", "7"), cm("new", "8")];
    const diff = diffSnapshot(current, fresh);
    expect(diff.added.map((o) => o.metadata.name)).toEqual(["new"]);
    expect(diff.updated.map((u) => [u.old.metadata.resourceVersion, u.new.metadata.resourceVersion])).toEqual([
      ["2", "7"],
    ]);
    expect(diff.deleted.map((o) => o.metadata.name)).toEqual(["gone"]);
  });

  it("Given a resync, should report unchanged objects as updated too", () => {
    const diff = diffSnapshot(current, [cm("same", "1")], true);
    expect(diff.updated.map((u) => u.new.metadata.name)).toEqual(["same"]);
    expect(diff.deleted).toHaveLength(2);
  });

  it("Given the same name in two namespaces, should treat them as different objects", () => {
    const other = { ...cm("same", "1"), metadata: { name: "same", namespace: "other", resourceVersion: "1" } };
    const diff = diffSnapshot(new Map([["ns/same", cm("same", "1")]]), [cm("same", "1"), other]);
    expect(diff.added).toEqual([other]);
    expect(diff.updated).toEqual([]);
  });
});
