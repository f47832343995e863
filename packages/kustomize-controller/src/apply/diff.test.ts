import { describe, expect, it } from "vitest";
import type { KubeObject } from "../kube.js";
import { hasDrifted, removePointer } from "./diff.js";
import { matchesSelector } from "./selector.js";

const live = (replicas: number, extra: Partial<KubeObject["metadata"]> = {}): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: {
    name: "web",
    namespace: "apps",
    resourceVersion: "7",
    uid: "u",
    labels: { app: "web" },
    managedFields: [{ manager: "x" }],
    ...extra,
  },
  spec: { replicas, template: { spec: { containers: [{ name: "web", image: "nginx" }] } } },
  status: { readyReplicas: 1 },
});

describe("hasDrifted", () => {
  it("Given a dry-run equal to the live object except metadata noise and status, should report no drift", () => {
    const dry = { ...live(2, { resourceVersion: "7", managedFields: [{ manager: "y" }], generation: 3 }), status: {} };
    expect(hasDrifted(live(2), dry)).toBe(false);
  });
  it("Given a changed spec, should report drift", () => {
    expect(hasDrifted(live(5), live(2))).toBe(true);
  });
  it("Given changed labels, should report drift", () => {
    expect(hasDrifted(live(2), live(2, { labels: { app: "other" } }))).toBe(true);
  });
  it("Given a new object (no resourceVersion in the dry-run), should report drift", () => {
    expect(hasDrifted(undefined, live(2, { resourceVersion: undefined }))).toBe(true);
  });
  it("Given an ignore rule for the drifted path and a matching target, should report no drift", () => {
    const rules = [{ paths: ["/spec/replicas"], target: { kind: "Deployment", name: "we.*" } }];
    expect(hasDrifted(live(5), live(2), rules)).toBe(false);
  });
  it("Given an ignore rule whose target does not match, should still report drift", () => {
    const rules = [{ paths: ["/spec/replicas"], target: { kind: "StatefulSet" } }];
    expect(hasDrifted(live(5), live(2), rules)).toBe(true);
  });
});

describe("removePointer", () => {
  it.each([
    ["/a/b", { a: { b: 1, c: 2 } }, { a: { c: 2 } }],
    ["/a/0", { a: [1, 2] }, { a: [2] }],
    ["/m~1n", { "m/n": 1, x: 2 }, { x: 2 }],
    ["/missing/deep", { a: 1 }, { a: 1 }],
  ])("Given %s, should remove just that value", (pointer, doc, expected) => {
    removePointer(doc, pointer);
    expect(doc).toEqual(expected);
  });
});

describe("matchesSelector", () => {
  const obj = live(1, { labels: { app: "web", tier: "front" }, annotations: { team: "a" } });
  it.each([
    [{ group: "apps", version: "v1", kind: "Deployment" }, true],
    [{ group: "", kind: "Deployment" }, true],
    [{ name: "w.*", namespace: "apps" }, true],
    [{ name: "we" }, false],
    [{ labelSelector: "app=web,tier in (front,back)" }, true],
    [{ labelSelector: "app!=web" }, false],
    [{ labelSelector: "!debug,app" }, true],
    [{ labelSelector: "tier notin (front)" }, false],
    [{ annotationSelector: "team=a" }, true],
  ])("Given %o, should match: %s", (selector, expected) => {
    expect(matchesSelector(obj, selector)).toBe(expected);
  });
});
