// Which Kustomizations a changed substituteFrom ConfigMap or Secret wakes: those of its namespace naming its kind and
// name in postBuild.substituteFrom, no others.
import { describe, expect, it } from "vitest";
import { referencing } from "./config-watch.js";
import type { KustomizationObject } from "./types.js";

const ks = (namespace: string, name: string, refs: { kind: "ConfigMap" | "Secret"; name: string }[]) =>
  ({
    apiVersion: "kustomize.toolkit.fluxcd.io/v1",
    kind: "Kustomization",
    metadata: { namespace, name },
    spec: {
      interval: "1h",
      prune: true,
      sourceRef: { kind: "GitRepository", name: "repo" },
      ...(refs.length ? { postBuild: { substituteFrom: refs } } : {}),
    },
  }) as unknown as KustomizationObject;

describe("substituteFrom watch mapping", () => {
  const all = [
    ks("apps", "web", [{ kind: "Secret", name: "db" }]),
    ks("apps", "api", [
      { kind: "ConfigMap", name: "db" },
      { kind: "Secret", name: "db" },
    ]),
    ks("apps", "cm-only", [{ kind: "ConfigMap", name: "db" }]),
    ks("other", "web", [{ kind: "Secret", name: "db" }]),
    ks("apps", "none", []),
  ];

  it.each([
    ["Secret", "apps", "db", ["apps/web", "apps/api"]],
    ["ConfigMap", "apps", "db", ["apps/api", "apps/cm-only"]],
    ["Secret", "other", "db", ["other/web"]],
    ["Secret", "apps", "unrelated", []],
  ])("Given a %s %s/%s that changed, should enqueue exactly the Kustomizations naming it", (kind, ns, name, keys) => {
    expect(referencing(all, kind, ns, name)).toEqual(keys);
  });
});
