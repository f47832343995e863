// The Event after every successful pass, as Flux's kustomize-controller words and annotates it.
import { describe, expect, it } from "vitest";
import { finishedEvent } from "./reconciler.js";
import type { KustomizationObject } from "./types.js";

const ks = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) =>
  ({
    apiVersion: "kustomize.toolkit.fluxcd.io/v1",
    kind: "Kustomization",
    metadata: { name: "apps", namespace: "default" },
    spec: { interval: "60m", prune: true, sourceRef: { kind: "GitRepository", name: "repo" }, ...spec },
    status,
  }) as unknown as KustomizationObject;

describe("finishedEvent", () => {
  it("Given a pass of 1.2345 s and a 60m interval, should say so as Go prints durations", () => {
    const event = finishedEvent(
      ks({}, { lastAppliedRevision: "main@sha1:abc", lastAttemptedRevision: "main@sha1:abc" }),
      1234.5,
    );
    expect(event.message).toBe("Reconciliation finished in 1.2345s, next run in 1h0m0s");
    expect(event.logFields).toEqual({ revision: "main@sha1:abc" }); // Flux logs the attempted revision
    expect(event.annotations).toEqual({
      "kustomize.toolkit.fluxcd.io/revision": "main@sha1:abc",
      "kustomize.toolkit.fluxcd.io/commit_status": "update",
    });
  });

  it("Given an origin revision, should annotate it too", () => {
    const event = finishedEvent(
      ks({ interval: "5m" }, { lastAppliedRevision: "latest@sha256:1", lastAppliedOriginRevision: "v1@sha1:2" }),
      0.25,
    );
    expect(event.message).toBe("Reconciliation finished in 250µs, next run in 5m0s");
    expect(event.annotations).toMatchObject({ "kustomize.toolkit.fluxcd.io/originRevision": "v1@sha1:2" });
  });

  it("Given no applied revision yet, should carry only commit_status", () => {
    expect(finishedEvent(ks({}), 10).annotations).toEqual({ "kustomize.toolkit.fluxcd.io/commit_status": "update" });
  });
});
