// Bitbucket Cloud commit statuses (API 2.0, app password as `<user>:<password>` token) and Bitbucket Server/Data
// Center build statuses (REST `.../commits/<sha>/builds`, token or username/password), as Flux sets them. Both keep
// their key under Bitbucket's 40-character limit with a SHA-1 of the commit status id, and skip Progressing events.
import { createHash } from "node:crypto";
import { type FluxEvent, isProgressing } from "../events/event.js";
import {
  type OwnerAndRepo,
  ownerAndRepo,
  parseGitAddress,
  revisionOf,
  stateFor,
  statusDescription,
} from "./commit-status.js";
import {
  basicAuth,
  expectSuccess,
  type HttpRequest,
  type HttpResponse,
  type HttpTransport,
  parseJsonResponse,
  sendExpectingSuccess,
} from "./http.js";
import { ProviderConfigError, parseHttpAddress } from "./settings.js";

export function sha1Hex(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}

function nameOf(event: FluxEvent): string {
  return `${event.involvedObject.kind}/${event.involvedObject.name}`.toLowerCase();
}

export interface BitbucketRepo extends OwnerAndRepo {
  api: string;
  authorization: string;
}

/**
 * Flux always calls api.bitbucket.org. Capstan does too for bitbucket.org addresses; any other host is taken as the
 * origin of a Bitbucket-compatible API (`<origin>/2.0`), which is what a mirror or a test server needs.
 */
export function bitbucketRepo(address: string, token: string): BitbucketRepo {
  const { host, id } = parseGitAddress(address);
  const sep = token.indexOf(":");
  if (sep < 0 || token.indexOf(":", sep + 1) >= 0) {
    throw new ProviderConfigError("invalid token format, expected to be <user>:<password>");
  }
  const { owner, repo } = ownerAndRepo(id);
  const origin = new URL(host);
  const api = origin.hostname === "bitbucket.org" ? "https://api.bitbucket.org/2.0" : `${host}/2.0`;
  return { api, owner, repo, authorization: basicAuth(token.slice(0, sep), token.slice(sep + 1)) };
}

/** Posts one commit status for `repo`; both Bitbucket flavours take the same arguments. */
type PostStatus<Repo> = (
  repo: Repo,
  /** The commit status id: the default `<kind>/<name>/<uid prefix>` or spec.commitStatusExpr's. */
  statusId: string,
  event: FluxEvent,
  transport: HttpTransport,
  signal?: AbortSignal,
) => Promise<void>;

/** The commit, state and key both flavours post; none for Progressing events, which Flux skips. */
function statusOf(event: FluxEvent, statusId: string): { sha: string; state: string; key: string } | undefined {
  if (isProgressing(event)) return undefined;
  return { sha: revisionOf(event), state: stateFor(event, "SUCCESSFUL", "FAILED"), key: sha1Hex(statusId) };
}

export const postBitbucketStatus: PostStatus<BitbucketRepo> = async (repo, statusId, event, transport, signal) => {
  const status = statusOf(event, statusId);
  if (!status) return;
  const { sha, state, key } = status;
  const body = {
    key,
    url: "https://bitbucket.org",
    state,
    name: nameOf(event),
    description: statusDescription(event),
  };
  const base = `${repo.api}/repositories/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.repo)}/commit/${sha}/statuses/build`;
  const get: HttpRequest = { method: "GET", url: `${base}/${key}`, headers: { authorization: repo.authorization } };
  const existing = await transport.send(get, signal);
  if (existing.status !== 404) {
    const found = parseJsonResponse(get, expectOk(get, existing), "commit status") as {
      state?: string;
      description?: string;
    };
    if (found?.state === body.state && found.description === body.description) return;
  }
  await sendExpectingSuccess(
    transport,
    {
      method: "POST",
      url: base,
      headers: { authorization: repo.authorization, "content-type": "application/json" },
      body: JSON.stringify(body),
    },
    signal,
  );
};

function expectOk(request: HttpRequest, res: HttpResponse): HttpResponse {
  expectSuccess(request, res);
  return res;
}

export interface BitbucketServerRepo {
  /** <origin><context path>/rest/api/latest/projects/<key>/repos/<slug>/commits */
  commitsUrl: string;
  address: string;
  authorization: string;
}

/** Only http(s) clone URLs carry the `/scm/<project>/<repo>` path that locates the repository (and the context path). */
export function bitbucketServerRepo(
  address: string,
  creds: { token?: string; username?: string; password?: string },
): BitbucketServerRepo {
  const u = parseHttpAddress(
    address,
    "could not parse git address",
    "could not parse git address: unsupported scheme, must be http or https",
  );
  const path = decodeURIComponent(u.pathname).replace(/\.git$/, "");
  const at = path.lastIndexOf("/scm/");
  if (at < 0) {
    throw new ProviderConfigError(
      "could not parse git address: supplied provider address is not http(s) git clone url",
    );
  }
  const context = path.slice(0, at);
  const parts = path.slice(at + "/scm/".length).split("/");
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new ProviderConfigError("could not parse git address: invalid repository id");
  }
  let authorization: string;
  if (creds.token) authorization = `Bearer ${creds.token}`;
  else if (creds.username && creds.password) authorization = basicAuth(creds.username, creds.password);
  else throw new ProviderConfigError("invalid credentials, expected to be one of username/password or API Token");
  const commitsUrl = `${u.protocol}//${u.host}${context}/rest/api/latest/projects/${encodeURIComponent(parts[0])}/repos/${encodeURIComponent(parts[1])}/commits`;
  return { commitsUrl, address, authorization };
}

export const postBitbucketServerStatus: PostStatus<BitbucketServerRepo> = async (
  repo,
  statusId,
  event,
  transport,
  signal,
) => {
  const status = statusOf(event, statusId);
  if (!status) return;
  const { sha, state, key } = status;
  const description = statusDescription(event);
  // Bitbucket Server shows only the name in its UI, so Flux appends the description to it.
  const name = `${nameOf(event)} [${description}]`;
  const url = `${repo.commitsUrl}/${sha}/builds`;
  const headers = {
    authorization: repo.authorization,
    "x-atlassian-token": "no-check",
    "x-requested-with": "XMLHttpRequest",
  };
  const get: HttpRequest = { method: "GET", url: `${url}?key=${key}`, headers };
  const existing = await transport.send(get, signal);
  if (existing.status === 200) {
    const found = parseJsonResponse(get, existing, "build status") as Record<string, unknown> | null;
    if (found?.key === key && found.state === state && found.description === description && found.name === name) return;
  } else if (existing.status !== 404) {
    expectOk(get, existing);
  }
  // Go's json.Encoder: struct field order, omitempty fields left out, and a trailing newline.
  const body = `${JSON.stringify({ description, key, name, state, url: repo.address })}\n`;
  await sendExpectingSuccess(
    transport,
    { method: "POST", url, headers: { ...headers, "content-type": "application/json" }, body },
    signal,
  );
};
