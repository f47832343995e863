// OIDC login by redirect in headless Chromium: the authorization-code flow with PKCE against a local issuer on
// loopback, the ID token validated by the dashboard as a pasted one is, and RBAC bound to the mapped group deciding
// what the user then sees.
import { afterAll, describe, expect, it } from "vitest";
import { grant, kustomization } from "../test/harness.js";
import { issuerOptions, startTestIssuer, type TestIssuer } from "../test/oidc-issuer.js";
import { browserSuite, poll } from "../test/suite.js";

let issuer: TestIssuer;
let team: string;
let other: string;

const ui = browserSuite(async (tc) => {
  issuer = await startTestIssuer();
  team = await tc.namespace("oidc-ui-a");
  other = await tc.namespace("oidc-ui-b");
  await kustomization(tc.client, team, "shop");
  await kustomization(tc.client, other, "payroll");
  await grant(tc.client, team, "group:oidc:team-a", ["get", "list", "watch"], "team-a");
  return { oidc: issuerOptions(issuer) };
});
afterAll(async () => {
  await issuer?.close();
});

// The issuer's certificate is self-signed; the dashboard trusts it through its CA option.
const newPage = () => ui.newPage({ ignoreHTTPSErrors: true });

describe("Given the dashboard with an OIDC issuer", () => {
  it("should log in by redirect (code flow with PKCE) and show what the mapped group may list", async () => {
    issuer.user = { sub: "alice", groups: ["team-a"] };
    const page = await newPage();
    await page.goto(ui.dash.url);
    await page.getByRole("link", { name: "Log in with your identity provider" }).click();
    await page.getByRole("navigation", { name: "Main" }).waitFor();
    expect(await page.locator(".user").textContent()).toBe("oidc:alice");

    const asked = issuer.authorizeRequests.at(-1);
    expect(asked?.get("code_challenge_method")).toBe("S256");
    expect(asked?.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(asked?.get("redirect_uri")).toBe(`${ui.dash.url}/api/oidc/callback`);
    expect(asked?.get("scope")?.split(" ")).toContain("openid");
    expect(asked?.has("code_verifier")).toBe(false);

    await page.goto(`${ui.dash.url}/#/apps`);
    const table = page.getByRole("table", { name: "Applications" });
    await poll(() => table.getByRole("link").allTextContents()).toContain("shop");
    expect(await table.getByRole("link").allTextContents()).not.toContain("payroll");
    // The browser holds a session id only: no token of any kind.
    const cookies = await page.context().cookies();
    expect(cookies.filter((c) => c.value !== "").map((c) => c.name)).toEqual(["capstan_session"]);
    expect(cookies.every((c) => !c.value.includes("."))).toBe(true);
  });

  it("should log out: back to the login page, the old session cookie refused, the refresh token revoked", async () => {
    issuer.user = { sub: "alice", groups: ["team-a"] };
    const page = await newPage();
    await page.goto(ui.dash.url);
    await page.getByRole("link", { name: "Log in with your identity provider" }).click();
    await page.getByRole("navigation", { name: "Main" }).waitFor();
    const session = (await page.context().cookies()).find((c) => c.name === "capstan_session")?.value ?? "";
    expect(session).not.toBe("");
    const held = [...issuer.refreshTokens];
    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByRole("form", { name: "Log in" }).waitFor();
    expect(await page.getByRole("navigation", { name: "Main" }).count()).toBe(0);
    const again = await fetch(`${ui.dash.url}/api/whoami`, { headers: { cookie: `capstan_session=${session}` } });
    expect(again.status).toBe(401);
    // The session's refresh token (one of those the issuer had handed out) is revoked at the issuer.
    await poll(() => issuer.revoked.some((t) => held.includes(t))).toBe(true);
  });

  it("should show the issuer's refusal on the login page", async () => {
    issuer.user = undefined;
    const page = await newPage();
    await page.goto(ui.dash.url);
    await page.getByRole("link", { name: "Log in with your identity provider" }).click();
    const alert = page.getByRole("alert");
    await poll(() => alert.textContent()).toContain("the issuer refused the login: access_denied");
    expect(await page.getByRole("navigation", { name: "Main" }).count()).toBe(0);
  });

  it("should refuse a callback this browser did not start (login CSRF), without opening a session", async () => {
    issuer.user = { sub: "mallory", groups: ["team-a"] };
    // An attacker's own login, begun elsewhere: the callback URL is replayed into a victim's browser.
    const begun = await fetch(`${ui.dash.url}/api/oidc/login`, { redirect: "manual" });
    const authorize = new URL(begun.headers.get("location") ?? "");
    const state = authorize.searchParams.get("state") ?? "";
    const page = await newPage();
    await page.goto(`${ui.dash.url}/api/oidc/callback?state=${state}&code=whatever`);
    await poll(() => page.getByRole("alert").textContent()).toContain("not started in this browser");
    expect((await page.context().cookies()).map((c) => c.name)).not.toContain("capstan_session");
  });
});
