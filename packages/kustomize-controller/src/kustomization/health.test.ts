import { describe, expect, it } from "vitest";
import { entry } from "../apply/changeset.js";
import type { CachedObject } from "../drift/watcher.js";
import { compileExprs } from "../health/cel.js";
import type { KubeObject, ObjectRef } from "../kube.js";
import { appliedCache, caughtUp } from "./health.js";

const deployment = (uid: string, generation: number): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "apps", uid, generation },
  status: { observedGeneration: generation },
});
const web: ObjectRef = { apiVersion: "apps/v1", kind: "Deployment", name: "web", namespace: "apps" };
const cm: ObjectRef = { apiVersion: "v1", kind: "ConfigMap", name: "settings", namespace: "apps" };

/** A change set in which `web` was written at uid u1, generation 3, and the ConfigMap left unchanged. */
function applied() {
  const d = entry(deployment("u1", 3), "configured");
  d.live = { uid: "u1", generation: 3 };
  const c = entry(
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: "apps" } },
    "unchanged",
  );
  c.live = { uid: "c1", generation: 0 };
  return [d, c];
}

const watchOf = (answers: Record<string, CachedObject | undefined>) => ({
  lookup: (ref: ObjectRef) => answers[`${ref.kind}/${ref.name}`],
});

describe("appliedCache: what the health check takes from the drift watch", () => {
  it("trusts the watch's copy once it has the uid and at least the generation the apply left", () => {
    const cache = appliedCache(
      watchOf({ "Deployment/web": { obj: deployment("u1", 4), partial: false } }),
      applied(),
      [],
    );
    expect(cache.lookup(web)).toEqual({ state: "fresh", obj: deployment("u1", 4) });
  });

  it("calls an older generation, another uid (a recreated object) or a missing copy stale", () => {
    for (const obj of [deployment("u1", 2), deployment("u0", 7), undefined]) {
      const cache = appliedCache(watchOf({ "Deployment/web": { obj, partial: false } }), applied(), []);
      expect(cache.lookup(web)).toEqual({ state: "stale" });
    }
  });

  it("does not answer for objects this reconcile did not apply, nor for unwatched kinds", () => {
    const watch = watchOf({ "Deployment/other": { obj: deployment("u9", 1), partial: false } });
    expect(appliedCache(watch, applied(), []).lookup({ ...web, name: "other" })).toBeUndefined();
    expect(appliedCache(watchOf({}), applied(), []).lookup(web)).toBeUndefined();
  });

  it("answers for a metadata-only kind with the ref's kind, unless custom expressions read its data", () => {
    const meta = { name: "settings", namespace: "apps", uid: "c1" };
    const watch = watchOf({
      "ConfigMap/settings": { obj: { apiVersion: "v1", kind: "ConfigMap", metadata: meta }, partial: true },
    });
    expect(appliedCache(watch, applied(), []).lookup(cm)).toEqual({
      state: "fresh",
      obj: { apiVersion: "v1", kind: "ConfigMap", metadata: meta },
    });
    const exprs = compileExprs([{ apiVersion: "v1", kind: "ConfigMap", current: "has(data.ready)" }]);
    expect(appliedCache(watch, applied(), exprs).lookup(cm)).toBeUndefined();
  });
});

describe("appliedCache and custom health expressions", () => {
  it("reads a watched kind with a status live when an expression covers it: the cache keeps only kstatus's fields", () => {
    const watch = watchOf({ "Deployment/web": { obj: deployment("u1", 4), partial: false } });
    const exprs = compileExprs([{ apiVersion: "apps/v1", kind: "Deployment", current: "spec.paused == false" }]);
    expect(appliedCache(watch, applied(), exprs).lookup(web)).toBeUndefined();
    // An expression for another kind leaves the Deployment to the cache.
    const other = compileExprs([{ apiVersion: "apps/v1", kind: "StatefulSet", current: "true" }]);
    expect(appliedCache(watch, applied(), other).lookup(web)).toEqual({ state: "fresh", obj: deployment("u1", 4) });
  });
});

describe("caughtUp", () => {
  const svc = (uid: string, resourceVersion?: string): KubeObject => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", uid, ...(resourceVersion ? { resourceVersion } : {}) },
  });

  it("compares resourceVersions as etcd revisions for kinds without a generation", () => {
    const want = { uid: "s1", resourceVersion: "1200" };
    expect(caughtUp(svc("s1", "1200"), want)).toBe(true);
    expect(caughtUp(svc("s1", "10000"), want)).toBe(true);
    expect(caughtUp(svc("s1", "999"), want)).toBe(false);
    expect(caughtUp(svc("s2", "5000"), want)).toBe(false);
  });

  it("never calls an opaque or missing resourceVersion caught up", () => {
    expect(caughtUp(svc("s1", "abc"), { uid: "s1", resourceVersion: "1" })).toBe(false);
    expect(caughtUp(svc("s1", "5"), { uid: "s1", resourceVersion: "x7" })).toBe(false);
    expect(caughtUp(svc("s1"), { uid: "s1", resourceVersion: "1" })).toBe(false);
    expect(caughtUp(svc("s1", "5"), { uid: "s1" })).toBe(false);
  });
});
