import { describe, expect, it } from "vitest";
import { releaseTargetChanged } from "./previous-target.js";
import type { HelmReleaseObject } from "./types.js";

function hr(spec: Partial<HelmReleaseObject["spec"]>, stored?: string, latest?: { name: string; namespace: string }) {
  return {
    apiVersion: "helm.toolkit.fluxcd.io/v2",
    kind: "HelmRelease",
    metadata: { name: "app", namespace: "apps" },
    spec: { interval: "10m", ...spec },
    status: {
      ...(stored ? { storageNamespace: stored } : {}),
      ...(latest ? { history: [{ ...latest, version: 1 }] } : {}),
    },
  } as unknown as HelmReleaseObject;
}

const here = { name: "app", namespace: "apps" };

describe("Given a HelmRelease and where its release was last stored (Flux's ReleaseTargetChanged)", () => {
  it.each([
    ["nothing released yet", hr({}), false],
    ["the same target", hr({}, "apps", here), false],
    ["storageNamespace set to where it already is", hr({ storageNamespace: "apps" }, "apps", here), false],
    ["a new storageNamespace", hr({ storageNamespace: "store" }, "apps", here), true],
    ["storageNamespace removed", hr({}, "store", here), true],
    ["a new releaseName", hr({ releaseName: "other" }, "apps", here), true],
    [
      "a new targetNamespace",
      hr({ targetNamespace: "web", storageNamespace: "apps", releaseName: "app" }, "apps", here),
      true,
    ],
    ["a status without history", hr({ storageNamespace: "store" }, "apps"), false],
    // Flux's default storage namespace is the HelmRelease's, with or without targetNamespace: a release Flux stored
    // must not read as a changed target (which uninstalls it).
    [
      "a targetNamespace release stored by Flux in the HelmRelease's namespace",
      hr({ targetNamespace: "web" }, "apps", { name: "web-app", namespace: "web" }),
      false,
    ],
  ])("should say %s: %s", (_what, obj, want) => {
    expect(releaseTargetChanged(obj)).toBe(want);
  });
});
