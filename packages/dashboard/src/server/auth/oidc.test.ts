// ID token validation against a local HTTPS issuer: what kube-apiserver's OIDC authenticator accepts and refuses.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { otherKey, startTestIssuer, type TestIssuer } from "../../test/oidc-issuer.js";
import { AuthenticationError } from "./authenticate.js";
import { OidcVerifier, unverifiedIssuer } from "./oidc.js";

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await startTestIssuer();
});
afterAll(async () => {
  await issuer?.close();
});

const now = () => Math.floor(Date.now() / 1000);
const valid = (extra: Record<string, unknown> = {}) => ({
  sub: "alice",
  aud: "capstan",
  exp: now() + 600,
  iat: now(),
  email: "alice@example.com",
  groups: ["team-a", "ops"],
  ...extra,
});

function verifier(extra: Partial<ConstructorParameters<typeof OidcVerifier>[0]> = {}) {
  return new OidcVerifier({ issuerUrl: issuer.url, clientId: "capstan", ca: issuer.ca, ...extra });
}

describe("OidcVerifier", () => {
  it("should map sub to the issuer-prefixed user name by default, as the apiserver does", async () => {
    const p = await verifier().verify(issuer.token(valid()));
    expect(p).toEqual({ user: `${issuer.url}#alice`, groups: ["system:authenticated"], insecure: false });
  });

  it("should apply the username and groups claims and prefixes", async () => {
    const v = verifier({ usernameClaim: "email", groupsClaim: "groups", groupsPrefix: "oidc:" });
    expect(await v.verify(issuer.token(valid({ email_verified: true })))).toEqual({
      user: "alice@example.com",
      groups: ["oidc:team-a", "oidc:ops", "system:authenticated"],
      insecure: false,
    });
    const prefixed = verifier({ usernamePrefix: "oidc:" });
    expect((await prefixed.verify(issuer.token(valid()))).user).toBe("oidc:alice");
    expect((await verifier({ usernamePrefix: "-" }).verify(issuer.token(valid()))).user).toBe("alice");
  });

  it.each([
    ["another audience", () => issuer.token(valid({ aud: "someone-else" })), /not issued for this client/],
    ["expired", () => issuer.token(valid({ exp: now() - 3600 })), /expired/],
    ["not yet valid", () => issuer.token(valid({ nbf: now() + 3600 })), /not yet valid/],
    ["signed by another key", () => issuer.token(valid(), { key: otherKey() }), /bad signature/],
    ["an unknown key id", () => issuer.token(valid(), { kid: "nope" }), /key the issuer does not publish/],
    ["alg none", () => issuer.token(valid(), { alg: "none" }), /unsupported signing algorithm/],
    ["another issuer", () => issuer.token(valid({ iss: "https://evil.example.com" })), /wrong issuer/],
    ["garbage", () => "a.b.c", /malformed/],
  ])("should refuse a token %s, saying why without echoing it", async (_, make, why) => {
    const token = make();
    const err = await verifier()
      .verify(token)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as Error).message).toMatch(why);
    expect((err as Error).message).not.toContain(token.split(".")[2] || token);
  });

  it("should refuse an unverified email as the user name", async () => {
    const v = verifier({ usernameClaim: "email" });
    await expect(v.verify(issuer.token(valid({ email_verified: false })))).rejects.toThrow(/email not verified/);
  });

  it("should refuse an issuer that is not https", () => {
    expect(() => new OidcVerifier({ issuerUrl: "http://127.0.0.1", clientId: "x" })).toThrow(/https/);
  });

  it("should read the issuer from a token without trusting it", () => {
    expect(unverifiedIssuer(issuer.token(valid()))).toBe(issuer.url);
    expect(unverifiedIssuer("not-a-jwt")).toBeUndefined();
  });
});
