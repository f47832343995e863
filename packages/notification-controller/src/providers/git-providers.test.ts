// Git host Provider types against a real HTTP server on loopback that plays the host's API: commit statuses (Gitea,
// Bitbucket Cloud, Bitbucket Server) and change request comments (Gitea pull requests, GitLab merge requests).
import { describe, expect, it } from "vitest";
import { compileAlert, notificationFor } from "../alerts/matching.js";
import type { FluxEvent } from "../events/event.js";
import { detectTransitions } from "../events/transitions.js";
import { sampleEvent } from "../testing/fixtures.js";
import { useNotifierTests } from "../testing/notifiers.js";
import { gitRepo } from "../testing/objects.js";
import { type Recorded, type RecorderServer, startRecorder } from "../testing/recorder.js";
import { bitbucketRepo, bitbucketServerRepo, sha1Hex } from "./bitbucket.js";
import { commentBody } from "./change-request.js";
import { maxResponseBytes } from "./http.js";
import { createNotifier, forAlert } from "./notifier.js";
import { ProviderConfigError, type ProviderSettings } from "./settings.js";

const uid = "0d7c2f4e-aaaa-bbbb-cccc-ddddeeeeffff";
const sha = "0123456789abcdef0123456789abcdef01234567";
const context = "gitrepository/webapp/0d7c2f4e";
const t = useNotifierTests();
const { post, deliver } = t;

type Route = (req: Recorded) => { status: number; body?: string } | undefined;

/** A fake API: the first route that answers wins; anything else is a 404. */
async function api(...routes: Route[]): Promise<RecorderServer> {
  const r = await startRecorder((req) => {
    for (const route of routes) {
      const answer = route(req);
      if (answer) return { ...answer, headers: { "content-type": "application/json" } };
    }
    return { status: 404, body: '{"message":"not found"}' };
  });
  t.closeAfter(() => r.close());
  return r;
}

const on =
  (method: string, path: string, status: number, body?: unknown): Route =>
  (req) =>
    req.method === method && req.path === path
      ? { status, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) }
      : undefined;

function settings(s: Partial<ProviderSettings> & { type: string }): ProviderSettings {
  return { uid, timeoutMs: 2_000, ...s };
}

const calls = (r: RecorderServer) => r.requests.map((q) => `${q.method} ${q.path}`);

describe("gitea commit status", () => {
  const list = `/api/v1/repos/org/app/commits/${sha}/statuses?limit=50&page=1`;

  it("Given no status yet / should list, then post the status with token auth", async () => {
    const gitea = await api(on("GET", list, 200, []), on("POST", `/api/v1/repos/org/app/statuses/${sha}`, 201, {}));
    await post(settings({ type: "gitea", address: `${gitea.url}/org/app.git`, token: "gitea-tok" }));
    expect(calls(gitea)).toEqual([`GET ${list}`, `POST /api/v1/repos/org/app/statuses/${sha}`]);
    const create = gitea.requests[1];
    expect(create?.headers.authorization).toBe("token gitea-tok");
    expect(create?.headers["content-type"]).toBe("application/json");
    expect(create?.body).toBe(
      JSON.stringify({ state: "success", target_url: "", description: "new artifact", context }),
    );
  });

  it("Given a Progressing event / should set a pending status, as Flux's Gitea notifier does", async () => {
    const gitea = await api(on("GET", list, 200, []), on("POST", `/api/v1/repos/org/app/statuses/${sha}`, 201, {}));
    await post(
      settings({ type: "gitea", address: `${gitea.url}/org/app`, token: "t0k3n" }),
      sampleEvent({ reason: "Progressing" }),
    );
    expect(JSON.parse(gitea.requests[1]?.body ?? "").state).toBe("pending");
  });

  it("Given the latest status with our context already equal / should not post again", async () => {
    const latest = [
      { context, state: "success", description: "new artifact" },
      { context, state: "failure", description: "build failed" },
    ];
    const gitea = await api(on("GET", list, 200, latest));
    await post(settings({ type: "gitea", address: `${gitea.url}/org/app`, token: "t0k3n" }));
    expect(calls(gitea)).toEqual([`GET ${list}`]);
  });

  it("Given a status list larger than the response limit / should stop reading and fail without posting", async () => {
    const huge = `[${'{"context":"x","state":"success","description":"padding padding padding"},'.repeat(80_000)}{}]`;
    const gitea = await api((req) => (req.method === "GET" ? { status: 200, body: huge } : undefined));
    const outcome = await deliver(settings({ type: "gitea", address: `${gitea.url}/org/app`, token: "t0k3n" }));
    expect(huge.length).toBeGreaterThan(maxResponseBytes);
    expect(outcome).toMatchObject({ delivered: false, attempts: 1 });
    expect(outcome.error).toMatch(/commit status list larger than 4194304 bytes/);
    expect(calls(gitea)).toEqual([`GET ${list}`]);
  });

  it("Given a 503 on create / should retry and report the failure without the token", async () => {
    const gitea = await api(
      on("GET", list, 200, []),
      on("POST", `/api/v1/repos/org/app/statuses/${sha}`, 503, { message: "gitea-tok" }),
    );
    const outcome = await deliver(settings({ type: "gitea", address: `${gitea.url}/org/app`, token: "gitea-tok" }));
    expect(outcome).toMatchObject({ delivered: false, attempts: 3 });
    expect(outcome.error).toMatch(/status 503/);
    expect(outcome.error).not.toContain("gitea-tok");
  });
});

describe("bitbucket commit status", () => {
  const key = sha1Hex(context);
  const base = `/2.0/repositories/org/app/commit/${sha}/statuses/build`;

  it("Given no status with our key (404) / should post one with basic auth and a SHA-1 key", async () => {
    const bb = await api(on("POST", base, 201, {}));
    await post(settings({ type: "bitbucket", address: `${bb.url}/org/app.git`, token: "bot:app-pass" }));
    expect(calls(bb)).toEqual([`GET ${base}/${key}`, `POST ${base}`]);
    expect(bb.requests[1]?.headers.authorization).toBe(`Basic ${Buffer.from("bot:app-pass").toString("base64")}`);
    expect(bb.requests[1]?.body).toBe(
      JSON.stringify({
        key,
        url: "https://bitbucket.org",
        state: "SUCCESSFUL",
        name: "gitrepository/webapp",
        description: "new artifact",
      }),
    );
  });

  it("Given the same state and description already set / should not post", async () => {
    const bb = await api(on("GET", `${base}/${key}`, 200, { key, state: "FAILED", description: "build failed" }));
    await post(
      settings({ type: "bitbucket", address: `${bb.url}/org/app`, token: "bot:app-pass" }),
      sampleEvent({ severity: "error", reason: "BuildFailed" }),
    );
    expect(calls(bb)).toEqual([`GET ${base}/${key}`]);
  });

  it("Given a bitbucket.org address in any form / should call api.bitbucket.org", () => {
    for (const address of [
      "git@bitbucket.org:org/app.git",
      "https://bitbucket.org/org/app",
      "ssh://git@bitbucket.org/org/app",
    ]) {
      expect(bitbucketRepo(address, "u:p")).toMatchObject({
        api: "https://api.bitbucket.org/2.0",
        owner: "org",
        repo: "app",
      });
    }
  });

  it("Given a token without user:password / should refuse the Provider", () => {
    expect(() =>
      createNotifier(settings({ type: "bitbucket", address: "https://bitbucket.org/o/r", token: "x" })),
    ).toThrow(/<user>:<password>/);
  });
});

describe("commitStatusExpr", () => {
  const expr =
    "event.involvedObject.kind.lowerAscii() + '/' + event.metadata.env + '/' + provider.metadata.name + '/' + alert.metadata.name";
  const wantId = "gitrepository/prod/status/ci";
  const objects = {
    alert: {
      apiVersion: "notification.toolkit.fluxcd.io/v1beta3",
      kind: "Alert",
      metadata: { name: "ci", generation: 3 },
    },
    provider: { apiVersion: "notification.toolkit.fluxcd.io/v1beta3", kind: "Provider", metadata: { name: "status" } },
  };
  const event = () => sampleEvent({ metadata: { revision: `main@sha1:${sha}`, env: "prod" }, id: "n-1" });

  async function postWith(s: ProviderSettings, e: FluxEvent = event()): Promise<void> {
    const notifier = t.notifier(s);
    await notifier.post(e, undefined, objects);
  }

  it("Given github / should send the expression's value as the status context", async () => {
    const statuses = `/api/v3/repos/org/app/statuses/${sha}`;
    const gh = await api(
      on("GET", `/api/v3/repos/org/app/commits/${sha}/statuses?per_page=50`, 200, []),
      on("POST", statuses, 201, {}),
    );
    await postWith(settings({ type: "github", address: `${gh.url}/org/app`, token: "t", commitStatusExpr: expr }));
    expect(calls(gh).at(-1)).toBe(`POST ${statuses}`);
    expect(JSON.parse(gh.requests.at(-1)?.body ?? "").context).toBe(wantId);
  });

  it("Given gitlab / should send the expression's value as the status name", async () => {
    const statuses = `/api/v4/projects/org%2Fapp/statuses/${sha}`;
    const gl = await api(
      on("GET", `/api/v4/projects/org%2Fapp/repository/commits/${sha}/statuses`, 200, []),
      on("POST", statuses, 201, {}),
    );
    await postWith(settings({ type: "gitlab", address: `${gl.url}/org/app`, token: "t", commitStatusExpr: expr }));
    expect(calls(gl).at(-1)).toBe(`POST ${statuses}`);
    expect(JSON.parse(gl.requests.at(-1)?.body ?? "").name).toBe(wantId);
  });

  it("Given gitea / should send the expression's value as the status context", async () => {
    const gitea = await api(
      on("GET", `/api/v1/repos/org/app/commits/${sha}/statuses?limit=50&page=1`, 200, []),
      on("POST", `/api/v1/repos/org/app/statuses/${sha}`, 201, {}),
    );
    await postWith(settings({ type: "gitea", address: `${gitea.url}/org/app`, token: "t", commitStatusExpr: expr }));
    expect(JSON.parse(gitea.requests.at(-1)?.body ?? "").context).toBe(wantId);
  });

  it("Given bitbucket and bitbucketserver / should key the status with the SHA-1 of the expression's value", async () => {
    const key = sha1Hex(wantId);
    const base = `/2.0/repositories/org/app/commit/${sha}/statuses/build`;
    const bb = await api(on("POST", base, 201, {}));
    await postWith(settings({ type: "bitbucket", address: `${bb.url}/org/app`, token: "u:p", commitStatusExpr: expr }));
    expect(calls(bb)).toEqual([`GET ${base}/${key}`, `POST ${base}`]);
    expect(JSON.parse(bb.requests[1]?.body ?? "").key).toBe(key);
    const builds = `/rest/api/latest/projects/PRJ/repos/app/commits/${sha}/builds`;
    const bbs = await api(on("POST", builds, 204));
    await postWith(
      settings({ type: "bitbucketserver", address: `${bbs.url}/scm/PRJ/app.git`, token: "t", commitStatusExpr: expr }),
    );
    expect(calls(bbs)).toEqual([`GET ${builds}?key=${key}`, `POST ${builds}`]);
  });

  it("Given an expression that does not compile or cannot be a string / should refuse the Provider", () => {
    for (const type of ["github", "gitlab", "gitea", "bitbucket", "bitbucketserver"]) {
      for (const [bad, why] of [
        ["event.involvedObject.kind +", /invalid spec\.commitStatusExpr/],
        ["1 + 2", /expected string, got int/],
        ["unknown.name", /invalid spec\.commitStatusExpr/],
        // Capstan's parse-time bound: a list literal of 150 elements (cel-js alone accepts 1,000).
        [`[${Array.from({ length: 150 }, () => "'a'").join(", ")}][0]`, /invalid spec\.commitStatusExpr/],
      ] as const) {
        const s = settings({ type, address: "https://git.example.com/scm/o/r", token: "u:p", commitStatusExpr: bad });
        expect(() => createNotifier(s)).toThrow(ProviderConfigError);
        expect(() => createNotifier(s)).toThrow(why);
      }
    }
  });

  it("Given an expression that fails for one event (a metadata key it lacks) / should fail that notification without retrying", async () => {
    const gh = await api();
    const s = settings({ type: "github", address: `${gh.url}/org/app`, token: "t", commitStatusExpr: expr });
    const notifier = t.notifier(s);
    const e = sampleEvent({ metadata: { revision: `main@sha1:${sha}` } });
    await expect(notifier.post(e, undefined, objects)).rejects.toThrow(/failed to evaluate spec\.commitStatusExpr/);
    await expect(notifier.post(e, undefined, objects)).rejects.toMatchObject({ retryable: false });
    expect(gh.requests).toEqual([]);
  });

  it("Given the notifier bound to an Alert / should hand the expression that Alert and Provider", async () => {
    const statuses = `/api/v3/repos/org/app/statuses/${sha}`;
    const gh = await api(
      on("GET", `/api/v3/repos/org/app/commits/${sha}/statuses?per_page=50`, 200, []),
      on("POST", statuses, 201, {}),
    );
    const shared = t.notifier(
      settings({ type: "github", address: `${gh.url}/org/app`, token: "t", commitStatusExpr: expr }),
    );
    await forAlert(shared, objects).post(event());
    expect(JSON.parse(gh.requests.at(-1)?.body ?? "").context).toBe(wantId);
  });
});

describe("bitbucketserver build status", () => {
  const key = sha1Hex(context);
  const builds = `/bb/rest/api/latest/projects/PRJ/repos/app/commits/${sha}/builds`;

  it("Given a clone URL with a context path / should post the build status with the token and Atlassian headers", async () => {
    const bbs = await api(on("POST", builds, 204));
    const s = settings({ type: "bitbucketserver", token: "bbs-token", address: `${bbs.url}/bb/scm/PRJ/app.git` });
    await post(s, sampleEvent({ severity: "error", reason: "HealthCheckFailed" }));
    expect(calls(bbs)).toEqual([`GET ${builds}?key=${key}`, `POST ${builds}`]);
    const create = bbs.requests[1];
    expect(create?.headers.authorization).toBe("Bearer bbs-token");
    expect(create?.headers["x-atlassian-token"]).toBe("no-check");
    expect(create?.headers["x-requested-with"]).toBe("XMLHttpRequest");
    expect(create?.body).toBe(
      `${JSON.stringify({
        description: "health check failed",
        key,
        name: "gitrepository/webapp [health check failed]",
        state: "FAILED",
        url: s.address,
      })}\n`,
    );
  });

  it("Given the identical build status / should not post again", async () => {
    const existing = {
      key,
      state: "SUCCESSFUL",
      description: "new artifact",
      name: "gitrepository/webapp [new artifact]",
    };
    const bbs = await api(on("GET", `${builds}?key=${key}`, 200, existing));
    await post(
      settings({ type: "bitbucketserver", address: `${bbs.url}/bb/scm/PRJ/app.git`, username: "u", password: "p" }),
    );
    expect(calls(bbs)).toEqual([`GET ${builds}?key=${key}`]);
    expect(bbs.requests[0]?.headers.authorization).toBe(`Basic ${Buffer.from("u:p").toString("base64")}`);
  });

  it("Given an address without /scm/ or no credentials / should refuse the Provider", () => {
    expect(() => bitbucketServerRepo("https://bb.example.com/PRJ/app.git", { token: "t" })).toThrow(
      /not http\(s\) git clone url/,
    );
    expect(() => bitbucketServerRepo("https://bb.example.com/scm/PRJ/app.git", {})).toThrow(/invalid credentials/);
  });
});

describe("change request comments", () => {
  const prEvent = (overrides: Partial<FluxEvent> = {}) =>
    sampleEvent({ metadata: { revision: `main@sha1:${sha}`, changeRequest: "7" }, ...overrides });

  it("Given a Gitea pull request without our comment / should create one carrying the hidden marker", async () => {
    const comments = "/api/v1/repos/org/app/issues/7/comments";
    const foreign = { id: 1, user: { login: "someone" }, body: commentBody("flux-pr-comment-key", uid, prEvent()) };
    const gitea = await api(
      on("GET", "/api/v1/user", 200, { login: "flux-bot" }),
      on("GET", `${comments}?limit=100&page=1`, 200, [foreign]),
      on("POST", comments, 201, { id: 2 }),
    );
    await post(
      settings({ type: "giteapullrequestcomment", address: `${gitea.url}/org/app`, token: "tok-pr" }),
      prEvent(),
    );
    expect(calls(gitea)).toEqual(["GET /api/v1/user", `GET ${comments}?limit=100&page=1`, `POST ${comments}`]);
    expect(gitea.requests[2]?.headers.authorization).toBe("token tok-pr");
    expect(JSON.parse(gitea.requests[2]?.body ?? "")).toEqual({
      body:
        `<!-- flux-pr-comment-key:${uid}/GitRepository/flux-system/webapp -->\n\n## Flux Status\n\n` +
        `ℹ️ GitRepository/flux-system/webapp\n\n${prEvent().message}\n\nMetadata:\n* \`revision\`: main@sha1:${sha}\n`,
    });
  });

  it("Given an object annotated event.toolkit.fluxcd.io/changeRequest / should comment on that pull request from its derived event, as Flux does", async () => {
    const obj = gitRepo("webapp", { revision: `main@sha1:${sha}`, ready: {} });
    obj.metadata.annotations = {
      "event.toolkit.fluxcd.io/changeRequest": "12",
      "event.toolkit.fluxcd.io/deploymentID": "d-1",
    };
    const [event] = detectTransitions(undefined, obj, { now: new Date("2024-03-01T12:00:00Z") });
    const alert = compileAlert({
      namespace: "flux-system",
      name: "pr",
      spec: { providerRef: { name: "p" }, eventSources: [{ kind: "GitRepository", name: "*" }] },
    });
    const comments = "/api/v1/repos/org/app/issues/12/comments";
    const gitea = await api(
      on("GET", "/api/v1/user", 200, { login: "flux-bot" }),
      on("GET", `${comments}?limit=100&page=1`, 200, []),
      on("POST", comments, 201, { id: 2 }),
    );
    await post(
      settings({ type: "giteapullrequestcomment", address: `${gitea.url}/org/app`, token: "tok-pr" }),
      notificationFor(alert, event as FluxEvent),
    );
    expect(calls(gitea)).toEqual(["GET /api/v1/user", `GET ${comments}?limit=100&page=1`, `POST ${comments}`]);
    const body = (JSON.parse(gitea.requests[2]?.body ?? "") as { body: string }).body;
    expect(body).toContain("* `deploymentID`: d-1\n");
    expect(body).toContain(`* \`revision\`: main@sha1:${sha}\n`);
    expect(body).not.toContain("changeRequest");
  });

  it("Given our earlier Gitea comment / should edit it in place and look the user up only once", async () => {
    const mine = { id: 42, user: { login: "flux-bot" }, body: commentBody("flux-pr-comment-key", uid, prEvent()) };
    const gitea = await api(
      on("GET", "/api/v1/user", 200, { login: "flux-bot" }),
      on("GET", "/api/v1/repos/org/app/issues/7/comments?limit=100&page=1", 200, [mine]),
      on("PATCH", "/api/v1/repos/org/app/issues/comments/42", 200, { id: 42 }),
    );
    const notifier = t.notifier(
      settings({ type: "giteapullrequestcomment", address: `${gitea.url}/org/app`, token: "t" }),
    );
    await notifier.post(prEvent({ severity: "error", message: "failed" }));
    await notifier.post(prEvent({ message: "fixed" }));
    expect(calls(gitea).filter((c) => c === "GET /api/v1/user")).toHaveLength(1);
    const edits = gitea.requests.filter((r) => r.method === "PATCH");
    expect(edits).toHaveLength(2);
    expect(JSON.parse(edits[0]?.body ?? "").body).toContain("⚠️ GitRepository/flux-system/webapp\n\nfailed");
  });

  it("Given an event without changeRequest metadata / should send nothing", async () => {
    const gitea = await api(on("GET", "/api/v1/user", 200, { login: "flux-bot" }));
    await post(settings({ type: "giteapullrequestcomment", address: `${gitea.url}/org/app`, token: "t" }));
    expect(gitea.requests).toHaveLength(0);
  });

  it("Given a GitLab merge request with our note / should update it with PUT and PRIVATE-TOKEN", async () => {
    const notes = "/api/v4/projects/group%2Fsub%2Fapp/merge_requests/7/notes";
    const mine = { id: 9, author: { username: "flux-bot" }, body: commentBody("flux-mr-comment-key", uid, prEvent()) };
    const gl = await api(
      on("GET", "/api/v4/user", 200, { username: "flux-bot" }),
      on("GET", `${notes}?order_by=created_at&per_page=100&sort=asc`, 200, [mine]),
      on("PUT", `${notes}/9`, 200, { id: 9 }),
    );
    await post(
      settings({ type: "gitlabmergerequestcomment", address: `${gl.url}/group/sub/app.git`, token: "glpat-x" }),
      prEvent(),
    );
    expect(calls(gl)).toEqual([
      "GET /api/v4/user",
      `GET ${notes}?order_by=created_at&per_page=100&sort=asc`,
      `PUT ${notes}/9`,
    ]);
    expect(gl.requests[2]?.headers["private-token"]).toBe("glpat-x");
    expect(JSON.parse(gl.requests[2]?.body ?? "").body).toMatch(/^<!-- flux-mr-comment-key:0d7c2f4e-/);
  });

  it("Given a GitLab merge request without our note / should create one", async () => {
    const notes = "/api/v4/projects/group%2Fapp/merge_requests/7/notes";
    const gl = await api(
      on("GET", "/api/v4/user", 200, { username: "flux-bot" }),
      on("GET", `${notes}?order_by=created_at&per_page=100&sort=asc`, 200, []),
      on("POST", notes, 201, { id: 10 }),
    );
    await post(
      settings({ type: "gitlabmergerequestcomment", address: `${gl.url}/group/app`, token: "glpat-x" }),
      prEvent(),
    );
    expect(calls(gl).at(-1)).toBe(`POST ${notes}`);
  });

  it("Given a 401 on the user lookup / should fail without retrying and without the token", async () => {
    const gl = await api(on("GET", "/api/v4/user", 401, { message: "401 Unauthorized glpat-secret" }));
    const outcome = await deliver(
      settings({ type: "gitlabmergerequestcomment", address: `${gl.url}/group/app`, token: "glpat-secret" }),
      prEvent(),
    );
    expect(outcome).toMatchObject({ delivered: false, attempts: 1 });
    expect(outcome.error).toMatch(/status 401/);
    expect(outcome.error).not.toContain("glpat-secret");
  });
});
