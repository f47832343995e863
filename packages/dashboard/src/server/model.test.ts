import { describe, expect, it } from "vitest";
import { commitUrl, type Obj, redactUrl, stateOf, summarize } from "./model.js";

const ks = (conditions: object[], spec: object = {}, extra: Partial<Obj> = {}): Obj => ({
  apiVersion: "kustomize.toolkit.fluxcd.io/v1",
  kind: "Kustomization",
  metadata: { name: "app", namespace: "team", generation: 1 },
  spec: { sourceRef: { kind: "GitRepository", name: "repo" }, ...spec },
  status: { observedGeneration: 1, conditions },
  ...extra,
});

describe("stateOf", () => {
  it.each([
    ["Ready=True", [{ type: "Ready", status: "True" }], {}, "ready"],
    ["Ready=False", [{ type: "Ready", status: "False" }], {}, "failing"],
    [
      "Stalled=True",
      [
        { type: "Ready", status: "False" },
        { type: "Stalled", status: "True" },
      ],
      {},
      "stalled",
    ],
    [
      "Reconciling=True",
      [
        { type: "Ready", status: "Unknown" },
        { type: "Reconciling", status: "True" },
      ],
      {},
      "reconciling",
    ],
    ["suspended", [{ type: "Ready", status: "False" }], { suspend: true }, "suspended"],
    ["no conditions", [], {}, "unknown"],
  ])("Given %s / should be %s", (_, conditions, spec, want) => {
    expect(stateOf(ks(conditions, spec))).toBe(want);
  });

  it("should be reconciling while the generation is not yet observed", () => {
    const o = ks([{ type: "Ready", status: "True" }]);
    o.metadata.generation = 2;
    expect(stateOf(o)).toBe("reconciling");
  });
});

describe("summarize", () => {
  it("should show the Stalled reason over Ready's, default the source namespace, and bound the message", () => {
    const s = summarize(
      ks([
        { type: "Ready", status: "False", reason: "ArtifactFailed", message: "x" },
        { type: "Stalled", status: "True", reason: "InvalidPath", message: "m".repeat(10_000) },
      ]),
    );
    expect(s).toMatchObject({ key: "Kustomization/team/app", state: "stalled", reason: "InvalidPath" });
    expect(s.source).toEqual({ kind: "GitRepository", name: "repo", namespace: "team" });
    expect(s.message.length).toBeLessThanOrEqual(2_000);
  });

  it("should never carry a Provider's address", () => {
    const s = summarize({
      apiVersion: "notification.toolkit.fluxcd.io/v1beta3",
      kind: "Provider",
      metadata: { name: "slack", namespace: "team" },
      spec: { type: "slack", address: "https://hooks.slack.com/services/SECRET" },
    });
    expect(JSON.stringify(s)).not.toContain("SECRET");
    expect(s.path).toBe("slack");
  });
});

describe("summarize a HelmRelease", () => {
  it("should show its chart, the chart's source, the released and the attempted version, and Ready", () => {
    const s = summarize({
      apiVersion: "helm.toolkit.fluxcd.io/v2",
      kind: "HelmRelease",
      metadata: { name: "podinfo", namespace: "team", generation: 2 },
      spec: {
        chart: {
          spec: { chart: "podinfo", sourceRef: { kind: "HelmRepository", name: "charts", namespace: "infra" } },
        },
        dependsOn: [{ name: "cert-manager" }],
      },
      status: {
        observedGeneration: 2,
        lastAttemptedRevision: "6.8.0",
        history: [{ chartName: "podinfo", chartVersion: "6.7.1" }],
        conditions: [{ type: "Ready", status: "False", reason: "UpgradeFailed", message: "timed out" }],
      },
    });
    expect(s).toMatchObject({
      key: "HelmRelease/team/podinfo",
      state: "failing",
      reason: "UpgradeFailed",
      revision: "6.7.1",
      attemptedRevision: "6.8.0",
      path: "podinfo",
      source: { kind: "HelmRepository", name: "charts", namespace: "infra" },
      dependsOn: [{ kind: "HelmRelease", name: "cert-manager", namespace: "team" }],
    });
  });
});

describe("summarize a controller Deployment", () => {
  it("should show its health, replicas and image", () => {
    const s = summarize({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "kustomize-controller", namespace: "flux-system", generation: 1 },
      spec: { replicas: 1, template: { spec: { containers: [{ image: "ghcr.io/x/kc:1" }] } } },
      status: { observedGeneration: 1, updatedReplicas: 1, availableReplicas: 0 },
    });
    expect(s).toMatchObject({ state: "reconciling", message: "0/1 replicas ready", revision: "ghcr.io/x/kc:1" });
  });
});

describe("redactUrl", () => {
  it.each([
    ["https://user:tok3n@github.com/a/b.git", "https://github.com/a/b.git"],
    ["https://github.com/a/b.git", "https://github.com/a/b.git"],
    ["ssh://git@github.com/a/b.git", "ssh://github.com/a/b.git"],
    ["git@github.com:a/b.git", "git@github.com:a/b.git"],
  ])("Given %s / should show %s", (url, want) => {
    expect(redactUrl(url)).toBe(want);
  });
});

describe("commitUrl", () => {
  const sha = "0123456789abcdef0123456789abcdef01234567";
  it.each([
    ["https://github.com/acme/app.git", `https://github.com/acme/app/commit/${sha}`],
    ["git@github.com:acme/app.git", `https://github.com/acme/app/commit/${sha}`],
    ["ssh://git@gitlab.com/group/sub/app.git", `https://gitlab.com/group/sub/app/-/commit/${sha}`],
    ["https://bitbucket.org/acme/app", `https://bitbucket.org/acme/app/commits/${sha}`],
    ["https://git.example.com/acme/app.git", undefined],
  ])("Given %s / should link %s", (url, want) => {
    expect(commitUrl(url, `main@sha1:${sha}`)).toBe(want);
  });
});
