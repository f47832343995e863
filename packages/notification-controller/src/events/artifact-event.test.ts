import { describe, expect, it } from "vitest";
import { detectTransitions } from "./transitions.js";
import type { WatchedObject } from "./watched.js";

const now = new Date("2024-03-01T12:00:00Z");
const at = "2024-03-01T10:00:00Z";

function source(kind: string, extra: Record<string, unknown>, status: Record<string, unknown>): WatchedObject {
  return {
    apiVersion: "source.toolkit.fluxcd.io/v1",
    kind,
    metadata: { name: "podinfo", namespace: "flux-system", uid: `uid-${kind}` },
    ...extra,
    status,
  } as WatchedObject;
}

describe("new-artifact events of Helm sources", () => {
  it("Given a HelmChart with a new chart version / should say what source-controller said (reason and summary of the build)", () => {
    const chart = source(
      "HelmChart",
      {},
      {
        artifact: { revision: "6.5.0", lastUpdateTime: at, path: "p", url: "u", digest: "sha256:00" },
        conditions: [
          {
            type: "ArtifactInStorage",
            status: "True",
            reason: "ChartPullSucceeded",
            message: "pulled 'podinfo' chart with version '6.5.0'",
            lastTransitionTime: at,
          },
        ],
      },
    );
    const [event] = detectTransitions({}, chart, { now });
    expect(event).toMatchObject({
      severity: "info",
      reason: "ChartPullSucceeded",
      message: "pulled 'podinfo' chart with version '6.5.0'",
      metadata: { revision: "6.5.0" },
      reportingController: "source-controller",
      involvedObject: { kind: "HelmChart", name: "podinfo" },
    });
  });

  it("Given a HelmRepository with a new index / should emit NewArtifact with the index size and URL, as Flux words it", () => {
    const repo = source(
      "HelmRepository",
      { spec: { url: "https://stefanprodan.github.io/podinfo" } },
      {
        artifact: { revision: "sha256:ab", size: 12_345, lastUpdateTime: at, path: "p", url: "u", digest: "sha256:cd" },
      },
    );
    const [event] = detectTransitions({}, repo, { now });
    expect(event).toMatchObject({
      reason: "NewArtifact",
      message: "stored fetched index of size 12.35kB from 'https://stefanprodan.github.io/podinfo'",
      metadata: { revision: "sha256:ab" },
    });
  });
});
