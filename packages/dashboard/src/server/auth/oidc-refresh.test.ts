// OIDC sessions against a local HTTPS issuer (no cluster: an ID token is validated by the dashboard itself): a login
// by redirect keeps the issuer's refresh token, renews the ID token before it expires, refuses a refreshed token that
// names another user, ends when the issuer refuses to refresh an expired token, and a logout drops the session and
// revokes the refresh token at the issuer.
import { request } from "node:https";
import { KubeClient } from "@capstan/runtime";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { issuerOptions, startTestIssuer, type TestIssuer } from "../../test/oidc-issuer.js";
import { TokenReviewer } from "./authenticate.js";
import { OidcVerifier } from "./oidc.js";
import { OidcLogin } from "./oidc-login.js";
import { type Refresher, Sessions } from "./sessions.js";

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await startTestIssuer();
});
afterAll(async () => {
  await issuer?.close();
});
beforeEach(() => {
  issuer.idTokenTtlS = 600;
  issuer.issueRefreshTokens = true;
  issuer.user = { sub: "alice", groups: ["team-a"] };
});

/** The verifier, login and sessions of a dashboard, on a clock the test may move forward. */
function setup() {
  const clock = { offsetMs: 0 };
  const now = () => Date.now() + clock.offsetMs;
  const verifier = new OidcVerifier({ ...issuerOptions(issuer), now });
  const login = new OidcLogin(verifier, { now });
  // ID tokens of this issuer never reach the apiserver: a client to nowhere proves it.
  const client = KubeClient.fromKubeconfig(
    'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: x}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n',
  );
  const errors: string[] = [];
  const closed: string[] = [];
  const sessions = new Sessions(new TokenReviewer({ client, oidc: verifier }), {
    now,
    refreshRetryMs: 0,
    onRefreshError: (_, err) => errors.push(err.message),
  });
  sessions.onClose((id) => closed.push(id));
  return { clock, login, sessions, errors, closed, client };
}

/** The issuer's redirect back after /authorize (it approves at once), followed by hand. */
function authorize(location: string): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    const req = request(location, { ca: issuer.ca }, (res) => {
      res.resume();
      resolve(new URL(res.headers.location ?? "", "http://dashboard").searchParams);
    });
    req.on("error", reject);
    req.end();
  });
}

async function logIn(s: ReturnType<typeof setup>) {
  const { location, state } = await s.login.begin("http://127.0.0.1:9090");
  const tokens = await s.login.finish(await authorize(location), state);
  const refresher: Refresher | undefined = tokens.refreshToken
    ? {
        refreshToken: tokens.refreshToken,
        refresh: (rt) => s.login.refresh(rt),
        revoke: (rt) => s.login.revoke(rt),
      }
    : undefined;
  const { id } = await s.sessions.login(tokens.idToken, refresher);
  return { id, tokens, refresher };
}

describe("Given an OIDC session opened by login by redirect", () => {
  it("should renew an ID token about to expire with the refresh token, rotating it, and take the issuer's new claims", async () => {
    const s = setup();
    issuer.idTokenTtlS = 30; // within the minute before expiry in which a session renews
    const { id, tokens, refresher } = await logIn(s);
    expect(tokens.refreshToken).toBeDefined();
    const before = issuer.refreshGrants;
    issuer.user = { sub: "alice", groups: ["team-b"] };
    const who = await s.sessions.principal(id);
    expect(who?.user).toBe("oidc:alice");
    expect(who?.groups).toContain("oidc:team-b");
    expect(issuer.refreshGrants).toBe(before + 1);
    // Rotated: the first refresh token is spent, the session holds the new one.
    expect(issuer.refreshTokens.has(tokens.refreshToken ?? "")).toBe(false);
    expect(refresher?.refreshToken).not.toBe(tokens.refreshToken);
    expect(issuer.refreshTokens.has(refresher?.refreshToken ?? "")).toBe(true);
    s.client.close();
  });

  it("should not refresh an ID token far from expiry", async () => {
    const s = setup();
    const { id } = await logIn(s);
    const before = issuer.refreshGrants;
    expect((await s.sessions.principal(id))?.user).toBe("oidc:alice");
    expect(issuer.refreshGrants).toBe(before);
    s.client.close();
  });

  it("should keep the user it was opened for: a refreshed token naming another user is refused", async () => {
    const s = setup();
    issuer.idTokenTtlS = 30;
    const { id } = await logIn(s);
    issuer.user = { sub: "mallory", groups: ["admins"] };
    const who = await s.sessions.principal(id);
    expect(who?.user).toBe("oidc:alice");
    expect(who?.groups).not.toContain("oidc:admins");
    expect(s.errors.join()).toContain("names another user");
    s.client.close();
  });

  it("should end when the ID token has expired and the issuer refuses to refresh it", async () => {
    const s = setup();
    issuer.idTokenTtlS = 30;
    const { id } = await logIn(s);
    issuer.refreshTokens.clear(); // revoked at the issuer
    s.clock.offsetMs = 5 * 60_000; // past expiry and the minute of skew
    expect(await s.sessions.principal(id)).toBeUndefined();
    expect(s.errors.join()).toContain("could not refresh the ID token");
    expect(s.closed).toEqual([id]);
    s.client.close();
  });

  it("should end a session without a refresh token when its ID token expires", async () => {
    const s = setup();
    issuer.issueRefreshTokens = false;
    issuer.idTokenTtlS = 30;
    const { id, tokens } = await logIn(s);
    expect(tokens.refreshToken).toBeUndefined();
    expect((await s.sessions.principal(id))?.user).toBe("oidc:alice");
    s.clock.offsetMs = 5 * 60_000;
    expect(await s.sessions.principal(id)).toBeUndefined();
    s.client.close();
  });

  it("should drop the session on logout and revoke its refresh token at the issuer", async () => {
    const s = setup();
    const { id, refresher } = await logIn(s);
    const rt = refresher?.refreshToken ?? "";
    s.sessions.logout(id);
    expect(s.closed).toEqual([id]);
    expect(await s.sessions.principal(id)).toBeUndefined();
    await expect.poll(() => issuer.revoked).toContain(rt);
    expect(issuer.refreshTokens.has(rt)).toBe(false);
    s.client.close();
  });
});
