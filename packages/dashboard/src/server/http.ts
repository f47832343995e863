// The HTTP surface: the JSON API, the event stream and the browser app's static files. Every /api route except login
// needs a principal (session cookie or bearer token; none with --insecure-local); writes need a JSON body, which a
// cross-site form cannot send, on top of the SameSite=Strict cookie.
import { createReadStream, existsSync, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import type { KubeClient, Logger } from "@capstan/runtime";
import type { Action, Identity } from "../shared/types.js";
import { performAction } from "./actions.js";
import type { AccessReviewer } from "./auth/access.js";
import { AuthenticationError, type Principal, type TokenReviewer } from "./auth/authenticate.js";
import { type OidcLogin, stateCookie } from "./auth/oidc-login.js";
import { cookieValue, type Sessions, sessionCookie } from "./auth/sessions.js";
import { buildDetail } from "./detail.js";
import { liveYaml } from "./live.js";
import type { ClusterStore } from "./store.js";
import { Stream, type StreamOptions } from "./stream.js";

export interface RouterDeps {
  client: KubeClient;
  store: ClusterStore;
  access: AccessReviewer;
  reviewer: TokenReviewer;
  sessions: Sessions;
  insecureLocal: boolean;
  /** Built browser app (index.html and assets); undefined serves a page saying it is not built. */
  staticDir: string | undefined;
  secureCookie: boolean;
  logger?: Logger;
  stream?: StreamOptions;
  /** OIDC login by redirect (authorization code with PKCE), when an issuer is configured. */
  oidcLogin?: OidcLogin;
}

const maxBody = 64 * 1024;
const actions: readonly Action[] = ["reconcile", "suspend", "resume"];
const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
};
const securityHeaders = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

const insecurePrincipal: Principal = { user: "insecure-local", groups: [], insecure: true };
const name = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export function createRouter(deps: RouterDeps) {
  const streams = new Set<Stream>();

  // A session that ends (logout, expiry, a token no longer accepted) closes its open streams at once.
  deps.sessions.onClose((id) => {
    for (const s of streams) if (s.sessionId === id) s.close();
  });

  async function principalOf(req: IncomingMessage): Promise<Principal | undefined> {
    if (deps.insecureLocal) return insecurePrincipal;
    const auth = req.headers.authorization;
    if (auth?.startsWith("Bearer ")) {
      try {
        return await deps.reviewer.review(auth.slice(7).trim());
      } catch {
        return undefined;
      }
    }
    const sid = cookieValue(req.headers.cookie, sessionCookie);
    return sid ? deps.sessions.principal(sid) : undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://dashboard");
    const path = url.pathname;
    if (path === "/healthz") return text(res, 200, "ok");
    if (path === "/readyz") return deps.store.hasSynced() ? text(res, 200, "ok") : text(res, 503, "caches not synced");
    if (!path.startsWith("/api/")) return serveStatic(req, res, path);

    if (path === "/api/login" && req.method === "POST") return login(req, res);
    if (path === "/api/login-options" || path.startsWith("/api/oidc/")) return oidcRoute(req, res, url);
    if (path === "/api/logout" && req.method === "POST") return logout(req, res);
    return authenticated(req, res, path);
  }

  async function authenticated(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const who = await principalOf(req);
    if (!who) return json(res, 401, { error: "log in with a Kubernetes bearer token" });

    if (path === "/api/whoami" && req.method === "GET") {
      const id: Identity = { user: who.user, groups: who.groups, insecure: who.insecure };
      return json(res, 200, id);
    }
    if (path === "/api/stream" && req.method === "GET") return stream(req, res, who);
    const detail =
      /^\/api\/objects\/(Kustomization|HelmRelease|GitRepository|OCIRepository|HelmRepository|HelmChart)\/([^/]+)\/([^/]+)$/.exec(
        path,
      );
    if (detail && req.method === "GET")
      return objectDetail(res, who, detail[1] ?? "", detail[2] ?? "", detail[3] ?? "");
    if (path === "/api/live" && req.method === "GET")
      return live(res, who, new URL(req.url ?? "/", "http://d").searchParams);
    const act = /^\/api\/actions\/([a-z]+)\/([A-Za-z]+)\/([^/]+)\/([^/]+)$/.exec(path);
    if (act && req.method === "POST") return action(req, res, who, act.slice(1) as [string, string, string, string]);
    return json(res, 404, { error: "not found" });
  }

  function logout(req: IncomingMessage, res: ServerResponse): void {
    const sid = cookieValue(req.headers.cookie, sessionCookie);
    if (sid) deps.sessions.logout(sid);
    res.setHeader("set-cookie", cookie("", 0));
    json(res, 200, { ok: true });
  }

  async function stream(req: IncomingMessage, res: ServerResponse, who: Principal): Promise<void> {
    // A browser's stream is tied to its session: checked at each heartbeat (which also renews an OIDC session's ID
    // token while the page sits open) and closed when the session ends. A bearer-token client's is not.
    const sid =
      deps.insecureLocal || req.headers.authorization ? undefined : cookieValue(req.headers.cookie, sessionCookie);
    const s = new Stream(res, who, deps.store, deps.access, {
      ...deps.stream,
      ...(req.headers["accept-encoding"] ? { acceptEncoding: req.headers["accept-encoding"] } : {}),
      ...(sid ? { sessionId: sid, stillValid: async () => (await deps.sessions.principal(sid)) !== undefined } : {}),
    });
    streams.add(s);
    res.on("close", () => streams.delete(s));
    await s.start();
  }

  async function live(res: ServerResponse, who: Principal, q: URLSearchParams): Promise<void> {
    const [apiVersion, kind, namespace, n] = ["apiVersion", "kind", "namespace", "name"].map((k) => q.get(k) ?? "");
    if (!/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion ?? "") || !/^[A-Za-z0-9]+$/.test(kind ?? "") || !n) {
      return json(res, 400, { error: "apiVersion, kind and name required" });
    }
    if ((namespace && !name.test(namespace)) || n.length > 253 || /[/\\]/.test(n))
      return json(res, 400, { error: "bad name" });
    const r = await liveYaml(deps.client, who, {
      apiVersion: apiVersion ?? "",
      kind: kind ?? "",
      name: n,
      ...(namespace ? { namespace } : {}),
    });
    return r.status === 200 ? json(res, 200, { yaml: r.yaml }) : json(res, r.status, { error: r.error });
  }

  async function objectDetail(res: ServerResponse, who: Principal, kind: string, ns: string, n: string): Promise<void> {
    const type = deps.store.typeOf(kind);
    if (!type || !name.test(ns) || !name.test(n)) return json(res, 404, { error: "not found" });
    if (!(await deps.access.allowed(who, "get", type, ns))) {
      return json(res, 403, { error: `you may not get ${kind} ${ns}/${n}` });
    }
    const d = await buildDetail(deps.client, deps.store, who, kind, ns, n);
    return d ? json(res, 200, d) : json(res, 404, { error: `${kind} ${ns}/${n} not found` });
  }

  async function action(
    req: IncomingMessage,
    res: ServerResponse,
    who: Principal,
    [action, kind, ns, n]: [string, string, string, string],
  ): Promise<void> {
    if (!isJson(req)) return json(res, 415, { error: "send application/json" });
    await readBody(req).catch(() => "");
    if (!actions.includes(action as Action) || !name.test(ns) || !name.test(n)) {
      return json(res, 400, { error: "bad action" });
    }
    const result = await performAction(deps.client, deps.store, who, {
      action: action as Action,
      kind,
      namespace: ns,
      name: n,
    });
    deps.logger?.info(
      { user: who.user, action, kind, namespace: ns, name: n, ok: result.ok, status: result.status },
      "action",
    );
    return json(res, result.status, { ok: result.ok, message: result.message });
  }

  async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (deps.insecureLocal) return json(res, 200, { user: insecurePrincipal.user, groups: [], insecure: true });
    if (!isJson(req)) return json(res, 415, { error: "send application/json" });
    let token = "";
    try {
      const body = JSON.parse(await readBody(req)) as { token?: unknown };
      if (typeof body.token === "string") token = body.token.trim();
    } catch {
      return json(res, 400, { error: 'send {"token": "..."}' });
    }
    try {
      const { id, principal } = await deps.sessions.login(token);
      res.setHeader("set-cookie", cookie(id, 8 * 3600));
      const identity: Identity = { user: principal.user, groups: principal.groups, insecure: false };
      deps.logger?.info({ user: principal.user }, "login");
      return json(res, 200, identity);
    } catch (err) {
      if (err instanceof AuthenticationError) {
        if (err.cause) deps.logger?.error({ error: (err.cause as Error).message }, "token review failed");
        return json(res, 401, { error: err.message });
      }
      throw err;
    }
  }

  function oidcRoute(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> | void {
    if (req.method !== "GET") return json(res, 405, { error: "method not allowed" });
    if (url.pathname === "/api/login-options") {
      return json(res, 200, { oidc: deps.oidcLogin !== undefined && !deps.insecureLocal });
    }
    if (url.pathname === "/api/oidc/login") return oidcBegin(req, res);
    if (url.pathname === "/api/oidc/callback") return oidcCallback(req, res, url.searchParams);
    return json(res, 404, { error: "not found" });
  }

  async function oidcBegin(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = req.headers.host ?? "";
    if (!deps.oidcLogin || deps.insecureLocal) return json(res, 404, { error: "OIDC login is not configured" });
    if (!/^[A-Za-z0-9.:[\]-]{1,260}$/.test(host)) return json(res, 400, { error: "bad Host header" });
    try {
      const { location, state } = await deps.oidcLogin.begin(`${deps.secureCookie ? "https" : "http"}://${host}`);
      // Lax, not Strict: the issuer's redirect back is a cross-site navigation, and must carry it.
      res.setHeader(
        "set-cookie",
        `${stateCookie}=${state}; Path=/api/oidc; HttpOnly; SameSite=Lax; Max-Age=600${deps.secureCookie ? "; Secure" : ""}`,
      );
      redirect(res, location);
    } catch (err) {
      deps.logger?.error({ error: (err as Error).message, cause: causeOf(err) }, "oidc login failed");
      redirect(res, `/?login_error=${encodeURIComponent((err as Error).message)}`);
    }
  }

  async function oidcCallback(req: IncomingMessage, res: ServerResponse, q: URLSearchParams): Promise<void> {
    if (!deps.oidcLogin || deps.insecureLocal) return json(res, 404, { error: "OIDC login is not configured" });
    const clearState = `${stateCookie}=; Path=/api/oidc; HttpOnly; SameSite=Lax; Max-Age=0`;
    try {
      const login = deps.oidcLogin;
      const tokens = await login.finish(q, cookieValue(req.headers.cookie, stateCookie));
      // With a refresh token the session renews its ID token before it expires (sessions.ts).
      const refresher = tokens.refreshToken
        ? {
            refreshToken: tokens.refreshToken,
            refresh: (rt: string) => login.refresh(rt),
            revoke: (rt: string) => login.revoke(rt),
          }
        : undefined;
      const { id, principal } = await deps.sessions.login(tokens.idToken, refresher);
      res.setHeader("set-cookie", [clearState, cookie(id, 8 * 3600)]);
      deps.logger?.info({ user: principal.user }, "login (oidc)");
      redirect(res, "/#/");
    } catch (err) {
      if (!(err instanceof AuthenticationError)) throw err;
      deps.logger?.error({ error: err.message, cause: causeOf(err) }, "oidc login failed");
      res.setHeader("set-cookie", clearState);
      redirect(res, `/?login_error=${encodeURIComponent(err.message)}`);
    }
  }

  function cookie(value: string, maxAge: number): string {
    return `${sessionCookie}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${deps.secureCookie ? "; Secure" : ""}`;
  }

  function serveStatic(req: IncomingMessage, res: ServerResponse, path: string): void {
    if (req.method !== "GET" && req.method !== "HEAD") {
      text(res, 405, "method not allowed");
      return;
    }
    if (!deps.staticDir) {
      text(res, 503, "the browser app is not built (pnpm --filter @capstan/dashboard build)");
      return;
    }
    const root = deps.staticDir;
    const rel = normalize(decodeURIComponent(path === "/" ? "/index.html" : path)).replace(/^([/\\])+/, "");
    const file = join(root, rel);
    const target =
      file.startsWith(root + sep) && existsSync(file) && statSync(file).isFile() ? file : join(root, "index.html");
    const immutable = target.includes(`${sep}assets${sep}`);
    res.writeHead(200, {
      ...securityHeaders,
      "content-type": types[extname(target)] ?? "application/octet-stream",
      "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
    });
    if (req.method === "HEAD") return void res.end();
    createReadStream(target).pipe(res);
  }

  return {
    handle: (req: IncomingMessage, res: ServerResponse) => {
      handle(req, res).catch((err: unknown) => {
        deps.logger?.error({ error: (err as Error).message, path: req.url?.split("?")[0] }, "request failed");
        if (!res.headersSent) json(res, 500, { error: "internal error (see the dashboard's log)" });
        else res.end();
      });
    },
    closeStreams: () => {
      for (const s of streams) s.close();
    },
  };
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { ...securityHeaders, location, "cache-control": "no-store" });
  res.end();
}

/** The cause's message for the log (never a token: the OIDC helpers name URLs and statuses only). */
function causeOf(err: unknown): string | undefined {
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? cause.message : undefined;
}

function isJson(req: IncomingMessage): boolean {
  return (req.headers["content-type"] ?? "").split(";")[0]?.trim() === "application/json";
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > maxBody) {
        reject(new Error("body too large"));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { ...securityHeaders, "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(body);
}
