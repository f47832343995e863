import { describe, expect, it } from "vitest";
import type { Summary } from "./types.js";
import { packSummaries, unpackSummaries } from "./wire.js";

const base: Summary = {
  key: "Kustomization/team/web",
  kind: "Kustomization",
  namespace: "team",
  name: "web",
  state: "ready",
  ready: "True",
  reason: "ReconciliationSucceeded",
  message: "Applied revision: main@sha1:1",
  since: "2026-01-01T10:00:00Z",
  suspended: false,
  revision: `main@sha1:${"1".repeat(40)}`,
  attemptedRevision: `main@sha1:${"1".repeat(40)}`,
  path: "./apps/web",
  source: { kind: "GitRepository", namespace: "team", name: "repo" },
  dependsOn: [],
  inventoryCount: 10,
};

describe("Given a summary on the stream", () => {
  it.each<[string, Summary]>([
    ["a Ready Kustomization", base],
    [
      "a failing, suspended Kustomization with another attempted revision and cross-namespace refs",
      {
        ...base,
        state: "failing",
        ready: "False",
        suspended: true,
        attemptedRevision: `main@sha1:${"2".repeat(40)}`,
        source: { kind: "GitRepository", namespace: "flux-system", name: "repo" },
        dependsOn: [
          { kind: "Kustomization", namespace: "team", name: "db" },
          { kind: "Kustomization", namespace: "infra", name: "crds" },
        ],
      },
    ],
    ["a Kustomization never applied", { ...base, state: "unknown", ready: "Unknown", revision: "", reason: "" }],
    [
      "a GitRepository",
      {
        key: "GitRepository/team/repo",
        kind: "GitRepository",
        namespace: "team",
        name: "repo",
        state: "reconciling",
        ready: "Unknown",
        reason: "Progressing",
        message: "",
        since: "",
        suspended: false,
        revision: "",
        attemptedRevision: "",
        path: "https://github.com/acme/repo.git",
        ref: "main",
      },
    ],
    [
      "a HelmChart with its artifact and source",
      {
        key: "HelmChart/team/team-web",
        kind: "HelmChart",
        namespace: "team",
        name: "team-web",
        state: "ready",
        ready: "True",
        reason: "ChartPullSucceeded",
        message: "pulled 'web' chart with version '1.2.3'",
        since: "2026-01-01T10:00:00Z",
        suspended: false,
        revision: "1.2.3",
        attemptedRevision: "1.2.3",
        path: "web",
        ref: "1.x",
        source: { kind: "HelmRepository", namespace: "team", name: "charts" },
        artifact: { digest: `sha256:${"a".repeat(64)}`, lastUpdate: "2026-01-01T10:00:00Z", size: 4096 },
      },
    ],
    [
      "an OCIRepository whose artifact has no size",
      {
        key: "OCIRepository/team/manifests",
        kind: "OCIRepository",
        namespace: "team",
        name: "manifests",
        state: "ready",
        ready: "True",
        reason: "Succeeded",
        message: "stored artifact",
        since: "",
        suspended: false,
        revision: `latest@sha256:${"b".repeat(64)}`,
        attemptedRevision: `latest@sha256:${"b".repeat(64)}`,
        path: "oci://ghcr.io/acme/manifests",
        ref: "tag:latest",
        artifact: { digest: `sha256:${"c".repeat(64)}`, lastUpdate: "2026-01-01T10:00:00Z" },
      },
    ],
  ])("should unpack %s to the summary it was", (_, s) => {
    expect(unpackSummaries(JSON.parse(JSON.stringify(packSummaries([s]))))).toEqual([s]);
  });

  it("should unpack a batch of different kinds and states in order", () => {
    const batch: Summary[] = [
      base,
      { ...base, key: "Kustomization/team/db", name: "db", state: "failing", ready: "False", message: "broken" },
      { ...base, key: "Kustomization/other/web", namespace: "other", suspended: true, state: "suspended" },
    ];
    expect(unpackSummaries(JSON.parse(JSON.stringify(packSummaries(batch))))).toEqual(batch);
  });

  it("should be under a third of the plain JSON for many Kustomizations of one source and revision", () => {
    const many = Array.from({ length: 1000 }, (_, i) => ({
      ...base,
      key: `Kustomization/team-${i % 50}/app-${i}`,
      namespace: `team-${i % 50}`,
      name: `app-${i}`,
      path: `./apps/${i}`,
      source: { kind: "GitRepository", namespace: `team-${i % 50}`, name: "repo" },
    }));
    expect(JSON.stringify(packSummaries(many)).length).toBeLessThan(JSON.stringify(many).length / 3);
  });
});
