import { describe, expect, it } from "vitest";
import type { KubeObject } from "../contracts.js";
import { aggregationKey, involvedObjectOf, newEvent, spamKey, truncateMessage } from "./event-object.js";

const source = { controller: "kustomize-controller", instance: "pod-1" };
const ks = (resourceVersion: string): KubeObject => ({
  apiVersion: "kustomize.toolkit.fluxcd.io/v1",
  kind: "Kustomization",
  metadata: { name: "apps", namespace: "flux-system", uid: "u-1", resourceVersion },
});

describe("event keys", () => {
  it("Given the same event about a newer resourceVersion of the object, should aggregate it with the first", () => {
    const a = aggregationKey(source, involvedObjectOf(ks("1")), "Normal", "ReconciliationSucceeded", "ok", undefined);
    const b = aggregationKey(source, involvedObjectOf(ks("2")), "Normal", "ReconciliationSucceeded", "ok", undefined);
    expect(a).toBe(b);
  });

  it.each([
    ["type", "Warning", "ReconciliationSucceeded", "ok", undefined],
    ["reason", "Normal", "Progressing", "ok", undefined],
    ["message", "Normal", "ReconciliationSucceeded", "other", undefined],
    [
      "annotations",
      "Normal",
      "ReconciliationSucceeded",
      "ok",
      { "kustomize.toolkit.fluxcd.io/revision": "main@sha1:2" },
    ],
  ] as const)("Given a different %s, should not aggregate", (_what, type, reason, message, annotations) => {
    const base = aggregationKey(
      source,
      involvedObjectOf(ks("1")),
      "Normal",
      "ReconciliationSucceeded",
      "ok",
      undefined,
    );
    expect(aggregationKey(source, involvedObjectOf(ks("1")), type, reason, message, annotations)).not.toBe(base);
  });

  it("Given the same annotations in another order, should aggregate", () => {
    const i = involvedObjectOf(ks("1"));
    expect(aggregationKey(source, i, "Normal", "r", "m", { a: "1", b: "2" })).toBe(
      aggregationKey(source, i, "Normal", "r", "m", { b: "2", a: "1" }),
    );
  });

  it("Given different reasons about one object, should spend one spam budget", () => {
    expect(spamKey(source, involvedObjectOf(ks("1")))).toBe(spamKey(source, involvedObjectOf(ks("9"))));
    const other = { ...ks("1"), metadata: { ...ks("1").metadata, name: "infra" } };
    expect(spamKey(source, involvedObjectOf(other))).not.toBe(spamKey(source, involvedObjectOf(ks("1"))));
  });
});

describe("newEvent", () => {
  it("Given an object, should build a core/v1 Event naming the controller and the exact object version", () => {
    const e = newEvent(
      source,
      involvedObjectOf(ks("7")),
      "Normal",
      "ReconciliationSucceeded",
      "Reconciliation finished",
      { "kustomize.toolkit.fluxcd.io/revision": "main@sha1:abc" },
      new Date("2026-03-04T05:06:07.890Z"),
    );
    expect(e).toMatchObject({
      apiVersion: "v1",
      kind: "Event",
      metadata: { namespace: "flux-system", annotations: { "kustomize.toolkit.fluxcd.io/revision": "main@sha1:abc" } },
      involvedObject: {
        kind: "Kustomization",
        name: "apps",
        namespace: "flux-system",
        uid: "u-1",
        resourceVersion: "7",
      },
      source: { component: "kustomize-controller" },
      reportingComponent: "kustomize-controller",
      reportingInstance: "pod-1",
      firstTimestamp: "2026-03-04T05:06:07Z",
      count: 1,
    });
    expect(e.metadata.name).toMatch(/^apps\.[0-9a-f]+$/);
  });

  it("Given a cluster-scoped object, should put the Event in the default namespace", () => {
    const ns: KubeObject = { apiVersion: "v1", kind: "Namespace", metadata: { name: "x" } };
    expect(newEvent(source, involvedObjectOf(ns), "Normal", "r", "m", undefined, new Date()).metadata.namespace).toBe(
      "default",
    );
  });

  it("Given a very long message, should truncate it to what the apiserver accepts", () => {
    const t = truncateMessage("x".repeat(5000));
    expect(t).toHaveLength(1024);
    expect(t.endsWith("...")).toBe(true);
  });
});
