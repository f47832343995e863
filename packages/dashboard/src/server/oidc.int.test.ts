// OIDC ID tokens end to end: a local issuer, the dashboard validating its tokens (claims mapped to user and groups as
// the apiserver's flags map them), and RBAC bound to the mapped group deciding what the user sees and may do.
import { afterAll, describe, expect, it } from "vitest";
import { grant, kustomization } from "../test/harness.js";
import { issuerOptions, startTestIssuer, type TestIssuer } from "../test/oidc-issuer.js";
import { openStream } from "../test/sse.js";
import { dashboardSuite } from "../test/suite.js";

let issuer: TestIssuer;
let team: string;
let other: string;

const srv = dashboardSuite(async (tc) => {
  issuer = await startTestIssuer();
  team = await tc.namespace("oidc-a");
  other = await tc.namespace("oidc-b");
  await kustomization(tc.client, team, "app");
  await kustomization(tc.client, other, "app");
  await grant(tc.client, team, "group:oidc:team-a", ["get", "list", "watch", "patch"], "team-a");
  return { oidc: issuerOptions(issuer) };
});
afterAll(async () => {
  await issuer?.close();
});

const idToken = (groups: string[]) =>
  issuer.token({ sub: "alice", aud: "capstan", exp: Math.floor(Date.now() / 1000) + 600, groups });

describe("Given the dashboard accepting OIDC ID tokens", () => {
  it("should log in with an ID token, mapping its claims to user and groups", async () => {
    const res = await fetch(`${srv.dash.url}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: idToken(["team-a"]) }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ user: "oidc:alice", groups: ["oidc:team-a", "system:authenticated"] });
  });

  it("should list and act with the RBAC of the mapped group, impersonating it", async () => {
    const token = idToken(["team-a"]);
    const s = openStream(srv.dash.url, { authorization: `Bearer ${token}` });
    try {
      const keys = (await s.snapshot).items.map((i) => i.key);
      expect(keys).toContain(`Kustomization/${team}/app`);
      expect(keys).not.toContain(`Kustomization/${other}/app`);
    } finally {
      s.close();
    }
    const post = (ns: string, t: string) =>
      fetch(`${srv.dash.url}/api/actions/suspend/Kustomization/${ns}/app`, {
        method: "POST",
        headers: { authorization: `Bearer ${t}`, "content-type": "application/json" },
        body: "{}",
      });
    expect((await post(team, token)).status).toBe(200);
    const refused = await post(team, idToken(["someone-else"]));
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toContain('User "oidc:alice" cannot patch');
  });

  it("should refuse an ID token for another client", async () => {
    const token = issuer.token({ sub: "alice", aud: "other", exp: Math.floor(Date.now() / 1000) + 600 });
    expect((await fetch(`${srv.dash.url}/api/whoami`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      401,
    );
  });
});
