// The server against the real control plane: TokenReview login, listing filtered by SubjectAccessReviews, changes
// pushed on the stream, actions performed as the user, and no token or credential in what the browser receives.
import { eventually } from "@capstan/cluster/testing";
import { Annotations, type KubeObject } from "@capstan/runtime";
import { describe, expect, it } from "vitest";
import type { Detail, Snapshot } from "../shared/types.js";
import { unpackSummaries } from "../shared/wire.js";
import { kustomization, rev, setKsStatus, twoTeams, type User } from "../test/harness.js";
import { openStream } from "../test/sse.js";
import { dashboardSuite } from "../test/suite.js";

let teamA: string;
let teamB: string;
let viewer: User;
let operator: User;

const srv = dashboardSuite(async (tc) => {
  ({ teamA, teamB, operator, viewer } = await twoTeams(tc, "dash"));
  for (const ns of [teamA, teamB]) {
    await kustomization(tc.client, ns, "app", undefined, { inventory: inventory(ns) });
  }
  await tc.client.create({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "cfg", namespace: teamA },
    data: {},
  });
});

const inventory = (ns: string) => [{ id: `${ns}_cfg__ConfigMap`, v: "v1" }];
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("Given the dashboard server on the control plane", () => {
  it("should refuse the API without a token, and a token the apiserver does not accept", async () => {
    expect((await fetch(`${srv.dash.url}/api/whoami`)).status).toBe(401);
    expect((await fetch(`${srv.dash.url}/api/whoami`, { headers: bearer("not-a-real-token") })).status).toBe(401);
    const res = await fetch(`${srv.dash.url}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: "not-a-real-token" }),
    });
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain("not-a-real-token");
  });

  it("should log in with a ServiceAccount token (TokenReview) into an HttpOnly session cookie", async () => {
    const res = await fetch(`${srv.dash.url}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: viewer.token }),
    });
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(JSON.parse(body)).toMatchObject({ user: viewer.user, insecure: false });
    expect(body).not.toContain(viewer.token);
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^capstan_session=[\w-]{20,}; Path=\/; HttpOnly; SameSite=Strict/);
    expect(cookie).not.toContain(viewer.token);
    const who = await fetch(`${srv.dash.url}/api/whoami`, { headers: { cookie: cookie.split(";")[0] ?? "" } });
    expect(await who.json()).toMatchObject({ user: viewer.user });
  });

  it("should end the session on logout: the cookie no longer works and the session's open stream is closed", async () => {
    const res = await fetch(`${srv.dash.url}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: viewer.token }),
    });
    const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const s = openStream(srv.dash.url, { cookie });
    let ended = false;
    void s.ended.then(() => {
      ended = true;
    });
    try {
      await s.snapshot;
      const out = await fetch(`${srv.dash.url}/api/logout`, { method: "POST", headers: { cookie } });
      expect(out.headers.get("set-cookie")).toMatch(/^capstan_session=; .*Max-Age=0/);
      await eventually(() => ended, { what: "the session's stream closed by the server" });
      expect((await fetch(`${srv.dash.url}/api/whoami`, { headers: { cookie } })).status).toBe(401);
    } finally {
      s.close();
    }
  });

  it("should compress the stream for a client that accepts gzip, each message still delivered as written", async () => {
    const abort = new AbortController();
    const res = await fetch(`${srv.dash.url}/api/stream`, {
      headers: { ...bearer(viewer.token), "accept-encoding": "gzip" },
      signal: abort.signal,
    });
    try {
      expect(res.headers.get("content-encoding")).toBe("gzip");
      // fetch inflates it: the snapshot arrives whole while the stream stays open.
      const decoder = new TextDecoder();
      let text = "";
      for await (const chunk of res.body ?? []) {
        text += decoder.decode(chunk as Uint8Array, { stream: true });
        if (/event: snapshot\ndata: .*\n\n/.test(text)) break;
      }
      const data = /event: snapshot\ndata: (.*)\n\n/.exec(text)?.[1] ?? "{}";
      const items = unpackSummaries((JSON.parse(data) as Snapshot).items);
      expect(items.map((i) => i.namespace)).toContain(teamA);
    } finally {
      abort.abort();
    }
  });

  it("should list only the namespaces the user may list, and strip credentials from source URLs", async () => {
    const s = openStream(srv.dash.url, bearer(viewer.token));
    try {
      const snap = await s.snapshot;
      const mine = snap.items.filter((i) => i.namespace === teamA || i.namespace === teamB).map((i) => i.key);
      expect(mine.sort()).toEqual([`GitRepository/${teamA}/repo`, `Kustomization/${teamA}/app`]);
      const text = JSON.stringify(snap);
      expect(text).not.toContain("s3cr3t");
      expect(snap.items.find((i) => i.kind === "GitRepository")?.path).toBe("https://github.com/acme/repo.git");
    } finally {
      s.close();
    }
  });

  it("should push a status change to an open stream, and not push another namespace's", async () => {
    const s = openStream(srv.dash.url, bearer(viewer.token));
    try {
      await s.snapshot;
      await setKsStatus(srv.tc.client, teamB, "app", { status: "False", reason: "BuildFailed", message: "hidden" });
      await setKsStatus(srv.tc.client, teamA, "app", {
        status: "False",
        reason: "ReconciliationFailed",
        message: "Deployment/web dry-run failed",
      });
      const got = await eventually(
        () =>
          s.batches
            .flatMap((b) => b.upserts)
            .find((u) => u.key === `Kustomization/${teamA}/app` && u.state === "failing"),
        { what: "the failing status on the stream" },
      );
      expect(got).toMatchObject({ reason: "ReconciliationFailed", message: "Deployment/web dry-run failed" });
      expect(s.batches.flatMap((b) => b.upserts).some((u) => u.namespace === teamB)).toBe(false);
    } finally {
      s.close();
      await setKsStatus(
        srv.tc.client,
        teamA,
        "app",
        { status: "True", reason: "ReconciliationSucceeded", message: "ok" },
        { inventory: inventory(teamA) },
      );
    }
  });

  it("should show an application's inventory with live health read as the user", async () => {
    const res = await fetch(`${srv.dash.url}/api/objects/Kustomization/${teamA}/app`, {
      headers: bearer(viewer.token),
    });
    expect(res.status).toBe(200);
    const d = (await res.json()) as Detail;
    expect(d.inventory).toEqual([
      expect.objectContaining({ kind: "ConfigMap", name: "cfg", namespace: teamA, health: "Current" }),
    ]);
    expect(d.source).toMatchObject({ url: "https://github.com/acme/repo.git", revision: rev(1), ref: "main" });
    expect(d.source?.commitUrl).toBe(`https://github.com/acme/repo/commit/${"0".repeat(39)}1`);
    const other = await fetch(`${srv.dash.url}/api/objects/Kustomization/${teamB}/app`, {
      headers: bearer(viewer.token),
    });
    expect(other.status).toBe(403);
  });

  it("should refuse an action the user's RBAC forbids, with the apiserver's message", async () => {
    const res = await fetch(`${srv.dash.url}/api/actions/suspend/Kustomization/${teamA}/app`, {
      method: "POST",
      headers: { ...bearer(viewer.token), "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(403);
    const body = (await res.json()) as { ok: boolean; message: string };
    expect(body.ok).toBe(false);
    expect(body.message).toContain(`User "${viewer.user}" cannot patch resource "kustomizations"`);
    const ks = await srv.tc.client.get<KubeObject & { spec: { suspend?: boolean } }>({
      apiVersion: "kustomize.toolkit.fluxcd.io/v1",
      kind: "Kustomization",
      name: "app",
      namespace: teamA,
    });
    expect(ks?.spec.suspend).toBeUndefined();
  });

  it("should refuse a write without a JSON body (no cross-site form posts)", async () => {
    const res = await fetch(`${srv.dash.url}/api/actions/suspend/Kustomization/${teamA}/app`, {
      method: "POST",
      headers: { ...bearer(operator.token), "content-type": "application/x-www-form-urlencoded" },
      body: "a=b",
    });
    expect(res.status).toBe(415);
  });

  it("should reconcile with source, suspend and resume as the user, as the flux CLI writes them", async () => {
    const post = (action: string) =>
      fetch(`${srv.dash.url}/api/actions/${action}/Kustomization/${teamB}/app`, {
        method: "POST",
        headers: { ...bearer(operator.token), "content-type": "application/json" },
        body: "{}",
      });
    const ref = (kind: string, name: string) => ({
      apiVersion: kind === "Kustomization" ? "kustomize.toolkit.fluxcd.io/v1" : "source.toolkit.fluxcd.io/v1",
      kind,
      name,
      namespace: teamB,
    });
    type Obj = KubeObject & { spec: { suspend?: boolean } };
    expect((await post("reconcile")).status).toBe(200);
    const ks = await srv.tc.client.get<Obj>(ref("Kustomization", "app"));
    const src = await srv.tc.client.get<Obj>(ref("GitRepository", "repo"));
    const at = ks?.metadata.annotations?.[Annotations.ReconcileRequest] ?? "";
    expect(at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(src?.metadata.annotations?.[Annotations.ReconcileRequest]).toBe(at);

    expect((await post("suspend")).status).toBe(200);
    expect((await srv.tc.client.get<Obj>(ref("Kustomization", "app")))?.spec.suspend).toBe(true);
    await eventually(async () => {
      const d = (await (
        await fetch(`${srv.dash.url}/api/objects/Kustomization/${teamB}/app`, { headers: bearer(operator.token) })
      ).json()) as Detail;
      return d.summary.state === "suspended";
    });
    expect((await post("resume")).status).toBe(200);
    expect((await srv.tc.client.get<Obj>(ref("Kustomization", "app")))?.spec.suspend).toBe(false);
  });
});
