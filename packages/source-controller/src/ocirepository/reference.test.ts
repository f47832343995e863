import { describe, expect, it } from "vitest";
import { credentialsFromDockerConfig } from "./auth.js";
import { OciError } from "./errors.js";
import { parseOciUrl, parseRef, revisionOf } from "./reference.js";
import { chooseSemverTag } from "./tags.js";

const d = `sha256:${"a".repeat(64)}`;

describe("parseOciUrl", () => {
  it.each([
    ["oci://ghcr.io/stefanprodan/manifests/podinfo", "ghcr.io", "stefanprodan/manifests/podinfo"],
    ["oci://127.0.0.1:5000/apps/web", "127.0.0.1:5000", "apps/web"],
    ["oci://docker.io/nginx", "registry-1.docker.io", "library/nginx"],
    ["oci://docker.io/bitnami/nginx", "registry-1.docker.io", "bitnami/nginx"],
  ])("Given %s / should address %s and %s", (url, host, repository) => {
    expect(parseOciUrl(url)).toMatchObject({ host, repository });
  });

  it.each([
    "https://ghcr.io/a/b",
    "oci://ghcr.io",
    "oci://ghcr.io/a/b:1.0.0",
    `oci://ghcr.io/a/b@${d}`,
    "oci://ghcr.io/A/B",
  ])("Given %s / should refuse it as URLInvalid, stalling", (url) => {
    const err = (() => {
      try {
        parseOciUrl(url);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(OciError);
    expect(err).toMatchObject({ reason: "URLInvalid", stalling: true });
  });
});

describe("parseRef and revisionOf", () => {
  it("should apply Flux's precedence: digest, semver, tag, then latest", () => {
    expect(parseRef({ digest: d, semver: "1.x", tag: "v1" })).toEqual({ type: "digest", digest: d });
    expect(parseRef({ semver: "1.x", semverFilter: "-rc", tag: "v1" })).toEqual({
      type: "semver",
      range: "1.x",
      filter: "-rc",
    });
    expect(parseRef({ tag: "v1" })).toEqual({ type: "tag", tag: "v1" });
    expect(parseRef(undefined)).toEqual({ type: "tag", tag: "latest" });
  });

  it("should spell revisions as Flux does", () => {
    expect(revisionOf("1.0.0", d)).toBe(`1.0.0@${d}`);
    expect(revisionOf(undefined, d)).toBe(d);
  });
});

describe("chooseSemverTag", () => {
  const tags = ["1.0.0", "v1.2.0", "1.3.0-rc.1", "2.0.0", "latest", "1.1.0"];
  it("should pick the highest tag in the range, leaving out prereleases and non-semver tags", () => {
    expect(chooseSemverTag(tags, ">=1.0.0 <2.0.0")).toBe("v1.2.0");
  });
  it("should apply semverFilter before the range", () => {
    expect(chooseSemverTag(tags, ">=1.0.0-0", ".*-rc.*")).toBe("1.3.0-rc.1");
  });
  it("should report no match and invalid ranges as ReadOperationFailed", () => {
    expect(() => chooseSemverTag(tags, ">=9")).toThrow(/no match found for semver: >=9/);
    expect(() => chooseSemverTag(tags, "not a range")).toThrow(/not a valid range/);
  });
});

describe("credentialsFromDockerConfig", () => {
  const auth = (u: string, p: string) => Buffer.from(`${u}:${p}`).toString("base64");
  it("should find credentials by host, by URL key, and Docker Hub's under its legacy key", () => {
    const json = JSON.stringify({
      auths: {
        "ghcr.io": { auth: auth("a", "pa") },
        "https://registry.example.com/v2/": { username: "b", password: "pb" },
        "https://index.docker.io/v1/": { auth: auth("c", "pc") },
      },
    });
    expect(credentialsFromDockerConfig(json, "ghcr.io", "s")).toEqual({ username: "a", password: "pa" });
    expect(credentialsFromDockerConfig(json, "registry.example.com", "s")).toEqual({ username: "b", password: "pb" });
    expect(credentialsFromDockerConfig(json, "docker.io", "s")).toEqual({ username: "c", password: "pc" });
    expect(credentialsFromDockerConfig(json, "quay.io", "s")).toBeUndefined();
  });
  it("should refuse malformed JSON without echoing it", () => {
    expect(() => credentialsFromDockerConfig('{"auths": secret-value', "ghcr.io", "s")).toThrow(
      /^Secret 's': .dockerconfigjson is not valid JSON$/,
    );
  });
});
