import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { gitRepo, rev, T0 } from "../testing/objects.js";
import { decodeState, detectTransitions, encodeState, observe } from "./transitions.js";
import type { WatchedObject } from "./watched.js";

const now = new Date("2024-03-01T12:00:00Z");
const detect = (prev: ReturnType<typeof observe> | undefined, obj: Parameters<typeof observe>[0]) =>
  detectTransitions(prev, obj, { now, reportingInstance: "nc-0" }).map((e) => [e.severity, e.reason, e.message]);

describe("transition detection", () => {
  it("Given a new artifact revision / should emit one info NewArtifact event with the revision in metadata", () => {
    const before = observe(gitRepo("app", { revision: rev(1), ready: {} }));
    const after = gitRepo("app", { revision: rev(2), ready: {} });
    const events = detectTransitions(before, after, { now, reportingInstance: "nc-0" });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      severity: "info",
      reason: "NewArtifact",
      message: `stored artifact for revision '${rev(2)}'`,
      metadata: { revision: rev(2) },
      reportingController: "source-controller",
      reportingInstance: "nc-0",
      timestamp: "2024-03-01T10:00:00Z",
      involvedObject: { kind: "GitRepository", name: "app", namespace: "flux-system", uid: "uid-app" },
    });
  });

  it("Given an object with event.toolkit.fluxcd.io annotations / should carry them, keys unchanged, on every event about it", () => {
    const obj = gitRepo("app", { revision: rev(2), ready: { status: "False", reason: "A", message: "boom" } });
    obj.metadata.annotations = {
      "event.toolkit.fluxcd.io/changeRequest": "7",
      "event.toolkit.fluxcd.io/deploymentID": "d-1",
      "event.toolkit.fluxcd.io/": "no key",
      "kustomize.toolkit.fluxcd.io/reconcile": "disabled",
      "example.com/event.toolkit.fluxcd.io/x": "other group",
    };
    const events = detectTransitions(observe(gitRepo("app", { revision: rev(1), ready: {} })), obj, { now });
    expect(events.map((e) => e.reason)).toEqual(["NewArtifact", "A"]);
    for (const e of events) {
      expect(e.metadata).toEqual({
        "event.toolkit.fluxcd.io/changeRequest": "7",
        "event.toolkit.fluxcd.io/deploymentID": "d-1",
        revision: rev(2),
      });
    }
  });

  it.each([
    ["no change", { revision: rev(1), ready: {} }, { revision: rev(1), ready: {} }, []],
    [
      "Ready turns False",
      { revision: rev(1), ready: {} },
      { revision: rev(1), ready: { status: "False", reason: "GitOperationFailed", message: "auth failed" } },
      [["error", "GitOperationFailed", "auth failed"]],
    ],
    [
      "failing with another message",
      { revision: rev(1), ready: { status: "False", reason: "A", message: "one" } },
      { revision: rev(1), ready: { status: "False", reason: "A", message: "two" } },
      [["error", "A", "two"]],
    ],
    [
      "still failing the same way",
      { revision: rev(1), ready: { status: "False", reason: "A", message: "one" } },
      { revision: rev(1), ready: { status: "False", reason: "A", message: "one" } },
      [],
    ],
    [
      "recovery",
      { revision: rev(1), ready: { status: "False", reason: "A", message: "one" } },
      { revision: rev(1), ready: { status: "True", reason: "Succeeded", message: "stored artifact" } },
      [["info", "Succeeded", "stored artifact"]],
    ],
    [
      "Unknown while reconciling",
      { revision: rev(1), ready: {} },
      { revision: rev(1), ready: { status: "Unknown", reason: "Progressing", message: "working" } },
      [],
    ],
    [
      "a first attempt waiting for its source (Reconciling, Progressing)",
      {},
      {
        ready: { status: "False", reason: "ArtifactFailed", message: "Source is not ready, artifact not found" },
        reconciling: { reason: "Progressing", message: "processing object: new generation -1 -> 1" },
      },
      [],
    ],
    [
      "a first attempt that failed and is retrying (Reconciling, ProgressingWithRetry)",
      {},
      {
        ready: { status: "False", reason: "BuildFailed", message: "kustomize build failed" },
        reconciling: { reason: "ProgressingWithRetry", message: "processing object: new generation -1 -> 1" },
      },
      [["error", "BuildFailed", "kustomize build failed"]],
    ],
    [
      "a dependency not ready",
      { revision: rev(1), ready: {} },
      {
        revision: rev(1),
        ready: { status: "False", reason: "DependencyNotReady", message: "dependency 'ns/a' is not ready" },
      },
      [["info", "DependencyNotReady", "dependency 'ns/a' is not ready"]],
    ],
    [
      "Stalled with the same words as Ready",
      { revision: rev(1), ready: {} },
      {
        revision: rev(1),
        ready: { status: "False", reason: "InvalidURL", message: "bad url" },
        stalled: { reason: "InvalidURL", message: "bad url" },
      },
      [["error", "InvalidURL", "bad url"]],
    ],
  ])("Given %s / should emit the expected events", (_name, before, after, want) => {
    expect(detect(observe(gitRepo("app", before)), gitRepo("app", after))).toEqual(want);
  });

  it("Given an object never notified / should report its revision and its failure", () => {
    const obj = gitRepo("app", { revision: rev(3), ready: { status: "False", reason: "X", message: "broken" } });
    expect(detect(undefined, obj)).toEqual([
      ["info", "NewArtifact", `stored artifact for revision '${rev(3)}'`],
      ["error", "X", "broken"],
    ]);
  });

  it("Given a Kustomization with a change set / should report the applied revision with it", () => {
    const ks: WatchedObject = {
      apiVersion: "kustomize.toolkit.fluxcd.io/v1",
      kind: "Kustomization",
      metadata: { name: "apps", namespace: "flux-system" },
      status: {
        lastAppliedRevision: rev(5),
        lastAppliedChangeSet: ["Deployment/default/web configured", "Service/default/web created"],
        conditions: [
          {
            type: "Ready",
            status: "True",
            reason: "ReconciliationSucceeded",
            message: "Applied",
            lastTransitionTime: T0,
          },
        ],
      },
    };
    const events = detectTransitions({ applied: "x", ready: "True" }, ks, { now });
    expect(events.map((e) => [e.reason, e.message, e.metadata?.revision, e.reportingController])).toEqual([
      [
        "ReconciliationSucceeded",
        "Deployment/default/web configured\nService/default/web created",
        rev(5),
        "kustomize-controller",
      ],
    ]);
  });

  it("Given any observed state / should survive encoding for the mark", () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            artifact: fc.stringMatching(/^[0-9a-f]{12}$/),
            applied: fc.stringMatching(/^[0-9a-f]{12}$/),
            ready: fc.constantFrom("True", "False", "Unknown"),
            readyDigest: fc.stringMatching(/^[0-9a-f]{12}$/),
            stalled: fc.constantFrom("True", "False", "Unknown"),
          },
          { requiredKeys: [] },
        ),
        (state) => {
          expect(decodeState(encodeState(state))).toEqual(state);
        },
      ),
    );
  });
});
