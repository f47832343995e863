import { describe, expect, it } from "vitest";
import { driftHistory } from "./drift.js";
import type { Obj } from "./model.js";

const rev = (n: number) => `main@sha1:${String(n).repeat(40)}`;
let seq = 0;
function progressing(revision: string, message: string, first: string, extra: Record<string, unknown> = {}): Obj {
  seq++;
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: {
      name: `app.${seq}`,
      namespace: "team",
      annotations: { "kustomize.toolkit.fluxcd.io/revision": revision },
    },
    type: "Normal",
    reason: "Progressing",
    message,
    firstTimestamp: first,
    lastTimestamp: first,
    count: 1,
    ...extra,
  } as unknown as Obj;
}

describe("Given a Kustomization's Progressing Events", () => {
  it("should report nothing for applies of new revisions", () => {
    expect(
      driftHistory([
        progressing(rev(1), "ConfigMap/team/a created", "2026-01-01T10:00:00Z"),
        progressing(rev(2), "ConfigMap/team/a configured", "2026-01-01T10:05:00Z"),
      ]),
    ).toEqual([]);
  });

  it("should report a change set applied again at an already applied revision, newest first", () => {
    const drift = driftHistory([
      progressing(rev(2), "Deployment/team/web configured", "2026-01-01T10:20:00Z"),
      progressing(rev(1), "ConfigMap/team/a created\nDeployment/team/web created", "2026-01-01T10:00:00Z"),
      progressing(rev(1), "ConfigMap/team/a created", "2026-01-01T10:10:00Z"),
      progressing(rev(2), "ConfigMap/team/a configured\nService/team/web unchanged", "2026-01-01T10:30:00Z"),
    ]);
    expect(drift).toEqual([
      { time: "2026-01-01T10:30:00Z", revision: rev(2), objects: ["ConfigMap/team/a configured"], count: 1 },
      { time: "2026-01-01T10:10:00Z", revision: rev(1), objects: ["ConfigMap/team/a created"], count: 1 },
    ]);
  });

  it("should report a first change set at a revision the dashboard had already seen applied", () => {
    const seen = new Map([[rev(3), Date.parse("2026-01-01T10:00:00Z")]]);
    const events = [
      progressing(rev(3), "ConfigMap/team/a configured", "2026-01-01T10:00:00Z"),
      progressing(rev(3), "Service/team/b configured", "2026-01-01T10:03:00Z"),
    ];
    // The first is the revision's own apply (recorded before its status was), the second a correction.
    expect(driftHistory([events[1] as Obj], seen)).toEqual([
      { time: "2026-01-01T10:03:00Z", revision: rev(3), objects: ["Service/team/b configured"], count: 1 },
    ]);
    expect(driftHistory([events[0] as Obj], seen)).toEqual([]);
  });

  it("should tell a correction soon after a no-change first apply from the apply, by the Event's client-go name", () => {
    // The revision's first apply changed nothing (no change set Event); the dashboard saw it applied at 10:00:00.400.
    const seenMs = Date.parse("2026-01-01T10:00:00.400Z");
    const seen = new Map([[rev(4), seenMs]]);
    const named = (ms: number) => `app.${(BigInt(ms) * 1_000_000n + 123n).toString(16)}`;
    const correction = progressing(rev(4), "ConfigMap/team/a configured", "2026-01-01T10:00:00Z");
    correction.metadata.name = named(seenMs + 500);
    expect(driftHistory([correction], seen)).toEqual([
      { time: "2026-01-01T10:00:00Z", revision: rev(4), objects: ["ConfigMap/team/a configured"], count: 1 },
    ]);
    // The change set of a revision's own first apply is created before its status says it is applied.
    const own = progressing(rev(4), "ConfigMap/team/a configured", "2026-01-01T10:00:00Z");
    own.metadata.name = named(seenMs - 50);
    expect(driftHistory([own], seen)).toEqual([]);
    // Without such a name the time is known to the second: within two seconds it cannot tell, and says nothing.
    const unnamed = progressing(rev(4), "ConfigMap/team/a configured", "2026-01-01T10:00:01Z");
    expect(driftHistory([unnamed], seen)).toEqual([]);
  });

  it("should count the repeats of one change set the recorder folded into one Event", () => {
    const drift = driftHistory([
      progressing(rev(1), "ConfigMap/team/a configured", "2026-01-01T10:00:00Z", {
        count: 3,
        lastTimestamp: "2026-01-01T10:40:00Z",
      }),
    ]);
    expect(drift).toEqual([
      { time: "2026-01-01T10:40:00Z", revision: rev(1), objects: ["ConfigMap/team/a configured"], count: 2 },
    ]);
  });

  it("should ignore Warning Events, other reasons, Events without a revision and lines that are not changes", () => {
    const noRevision = progressing(rev(1), "ConfigMap/team/a configured", "2026-01-01T10:10:00Z");
    noRevision.metadata.annotations = {};
    expect(
      driftHistory([
        progressing(rev(1), "ConfigMap/team/a configured", "2026-01-01T10:00:00Z"),
        progressing(rev(1), "ConfigMap/team/a configured", "2026-01-01T10:05:00Z", { type: "Warning" }),
        progressing(rev(1), "Health check passed", "2026-01-01T10:06:00Z"),
        progressing(rev(1), "ConfigMap/team/a deleted", "2026-01-01T10:07:00Z"),
        progressing(rev(1), "ConfigMap/team/a configured", "2026-01-01T10:08:00Z", {
          reason: "ReconciliationSucceeded",
        }),
        noRevision,
      ]),
    ).toEqual([]);
  });
});
