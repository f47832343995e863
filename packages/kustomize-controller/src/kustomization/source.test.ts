import { WaitingError } from "@capstan/runtime";
import { describe, expect, it } from "vitest";
import type { Client } from "../kube.js";
import { resolveSource, type SourceCache } from "./source.js";
import type { GitRepositoryObject, KustomizationObject } from "./types.js";

const artifact = {
  url: "http://a/x.tar.gz",
  digest: "sha256:ab",
  revision: "main@sha1:1",
  path: "x",
  lastUpdateTime: "",
};
const repo = (namespace: string): GitRepositoryObject =>
  ({
    apiVersion: "source.toolkit.fluxcd.io/v1",
    kind: "GitRepository",
    metadata: { name: "repo", namespace },
    spec: { url: "https://git.invalid/r", interval: "1m" },
    status: { artifact },
  }) as GitRepositoryObject;

const ks = (sourceNamespace?: string): KustomizationObject =>
  ({
    apiVersion: "kustomize.toolkit.fluxcd.io/v1",
    kind: "Kustomization",
    metadata: { name: "apps", namespace: "team" },
    spec: {
      interval: "1m",
      prune: true,
      sourceRef: { kind: "GitRepository", name: "repo", ...(sourceNamespace ? { namespace: sourceNamespace } : {}) },
    },
  }) as KustomizationObject;

/** A client that answers GETs from `objects` and counts them. */
function apiWith(objects: GitRepositoryObject[]) {
  const gets: string[] = [];
  const client = {
    get: async (ref: { namespace?: string; name: string }) => {
      gets.push(`${ref.namespace}/${ref.name}`);
      return objects.find((o) => o.metadata.namespace === ref.namespace && o.metadata.name === ref.name);
    },
  } as unknown as Client;
  return { client, gets };
}

function cacheOf(objects: GitRepositoryObject[], watched: string): SourceCache {
  const byKey = new Map(objects.map((o) => [`${o.metadata.namespace}/${o.metadata.name}`, o]));
  return { cache: { get: (k) => byKey.get(k), list: () => [...byKey.values()] }, complete: (ns) => ns === watched };
}

describe("resolveSource with the informer cache", () => {
  it("Given the source in the cache, should resolve its artifact without a GET", async () => {
    const api = apiWith([repo("team")]);
    const got = await resolveSource(api.client, ks(), 1000, false, cacheOf([repo("team")], "team"));
    expect(got).toEqual({ url: artifact.url, digest: artifact.digest, revision: artifact.revision });
    expect(api.gets).toEqual([]);
  });

  it("Given a source missing from a cache that holds its namespace, should wait for it (not found) without a GET", async () => {
    const api = apiWith([]);
    const err = await resolveSource(api.client, ks(), 1000, false, cacheOf([], "team")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitingError);
    expect((err as Error).message).toBe("Source 'GitRepository/team/repo' not found");
    expect(api.gets).toEqual([]);
  });

  it("Given a source in a namespace the cache does not hold, should GET it", async () => {
    const api = apiWith([repo("other")]);
    const got = await resolveSource(api.client, ks("other"), 1000, false, cacheOf([], "team"));
    expect(got.revision).toBe(artifact.revision);
    expect(api.gets).toEqual(["other/repo"]);
  });

  it("Given a source without an artifact yet, should wait with Flux's ArtifactFailed message, --requeue-dependency as fallback", async () => {
    const pending = { ...repo("team"), status: {} } as GitRepositoryObject;
    const api = apiWith([]);
    const err = await resolveSource(api.client, ks(), 30_000, false, cacheOf([pending], "team")).catch((e) => e);
    expect(err).toBeInstanceOf(WaitingError);
    expect((err as WaitingError).message).toBe("Source artifact not found, retrying in 30s");
    expect((err as WaitingError).reason).toBe("ArtifactFailed");
    expect((err as WaitingError).requeueAfterMs).toBe(30_000);
    expect(api.gets).toEqual([]);
  });
});
