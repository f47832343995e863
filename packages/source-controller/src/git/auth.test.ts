import { describe, expect, it } from "vitest";
import { GitError } from "../errors.js";
import { scrub } from "../scrub.js";
import { authFromSecret, checkProvider, parseRemoteUrl, proxyFromSecret } from "./auth.js";
import { classifyGitFailure, gitFailure } from "./classify.js";

const b = (s: string) => Buffer.from(s);

describe("authFromSecret", () => {
  it("Given username and password for https / should return basic auth", () => {
    const auth = authFromSecret(new URL("https://h/r.git"), { username: b("u"), password: b("p"), "ca.crt": b("CA") });
    expect(auth).toMatchObject({ transport: "https", username: "u", password: "p" });
  });

  it.each([
    [{ password: b("p") }, /'password' requires 'username'/],
    [{ username: b("u"), bearerToken: b("t") }, /mutually exclusive/],
    [{ "tls.crt": b("c") }, /must be set together/],
  ])("Given an inconsistent Secret %# / should fail with AuthenticationFailed", (data, message) => {
    const err = (() => {
      try {
        authFromSecret(new URL("https://h/r.git"), data);
      } catch (e) {
        return e as GitError;
      }
    })();
    expect(err).toBeInstanceOf(GitError);
    expect(err?.reason).toBe("AuthenticationFailed");
    expect(err?.message).toMatch(message);
  });

  it("Given a bearer token over plain http / should refuse it", () => {
    expect(() => authFromSecret(new URL("http://h/r.git"), { bearerToken: b("t") })).toThrow(/plain http/);
  });

  it("Given an ssh Secret without known_hosts / should require it", () => {
    expect(() => authFromSecret(new URL("ssh://git@h/r.git"), { identity: b("k") })).toThrow(/known_hosts/);
  });

  it("Given an ssh URL / should take the user from the URL", () => {
    expect(authFromSecret(new URL("ssh://deploy@h/r.git"), { identity: b("k"), known_hosts: b("kh") })).toMatchObject({
      transport: "ssh",
      user: "deploy",
    });
  });
});

describe("URL, provider and proxy checks", () => {
  it.each(["ftp://h/r", "not a url", "https://u:p@h/r.git"])("Given %s / should reject with URLInvalid", (url) => {
    expect(() => parseRemoteUrl(url)).toThrow(expect.objectContaining({ reason: "URLInvalid", stalling: true }));
  });

  it.each(["aws", "azure", "github"])("Given provider %s / should say it is not supported yet", (provider) => {
    expect(() => checkProvider(provider)).toThrow(/not supported yet/);
  });

  it("Given a proxy Secret without address / should fail", () => {
    expect(() => proxyFromSecret({ username: b("u") })).toThrow(/'address' is required/);
  });
});

describe("scrub and classify", () => {
  it("Given a message with secrets, URL userinfo and headers / should remove them all", () => {
    const out = scrub("fatal: https://me:hunter22@h/x Authorization: Bearer tok123 and aHVudGVyMjI= hunter22", [
      "hunter22",
    ]);
    expect(out).not.toContain("hunter22");
    expect(out).not.toContain("aHVudGVyMjI=");
    expect(out).not.toContain("tok123");
    expect(out).not.toContain("me:");
  });

  it.each([
    ["fatal: Authentication failed for 'https://h/r.git/'", "auth"],
    ["git@h: Permission denied (publickey).", "auth"],
    ["Host key verification failed.", "hostKey"],
    ["fatal: couldn't find remote ref refs/heads/x", "notFound"],
    ["fatal: unable to access 'https://h/': Failed to connect to h port 1: Connection refused", "unreachable"],
    [
      "fatal: unable to access 'https://h/': SSL certificate problem: unable to get local issuer certificate",
      "unreachable",
    ],
    ["something else", "other"],
  ])("Given stderr %j / should classify as %s", (stderr, kind) => {
    expect(classifyGitFailure(stderr)).toBe(kind);
  });

  it("Given a failure with a secret in stderr / should keep it out of message and cause", () => {
    const err = gitFailure("git fetch", "fatal: bad token s3cr3t-token", ["s3cr3t-token"]);
    expect(err.message).not.toContain("s3cr3t-token");
    expect(String((err.cause as Error).message)).not.toContain("s3cr3t-token");
  });
});
