// Comments on the pull request (Gitea) or merge request (GitLab) named by the event's `changeRequest` metadata, as
// Flux's giteapullrequestcomment and gitlabmergerequestcomment notifiers write them: one comment per (Provider, object),
// found again by a hidden marker among the first 100 comments of the token's user and edited in place.
import { type FluxEvent, sortedEntries } from "../events/event.js";
import { parseGitAddress } from "./commit-status.js";
import { type GiteaRepo, giteaHeaders } from "./gitea.js";
import {
  DeliveryError,
  type HttpRequest,
  type HttpTransport,
  parseJsonResponse,
  sendExpectingSuccess,
} from "./http.js";
import { ProviderConfigError } from "./settings.js";

/** Flux's eventv1.MetaChangeRequestKey: objects carry it as the annotation `event.toolkit.fluxcd.io/changeRequest`. */
export const MetaChangeRequestKey = "changeRequest";
const prefixedChangeRequestKey = `event.toolkit.fluxcd.io/${MetaChangeRequestKey}`;

export function changeRequestOf(event: FluxEvent): string | undefined {
  const value = event.metadata?.[MetaChangeRequestKey] ?? event.metadata?.[prefixedChangeRequestKey];
  return value ? value : undefined;
}

export function commentMarker(prefix: string, providerUid: string, event: FluxEvent): string {
  const o = event.involvedObject;
  return `<!-- ${prefix}:${providerUid}/${o.kind}/${o.namespace ?? ""}/${o.name} -->`;
}

export function commentBody(prefix: string, providerUid: string, event: FluxEvent): string {
  const o = event.involvedObject;
  const emoji = event.severity === "error" ? "⚠️" : "ℹ️";
  const metadata = sortedEntries(event.metadata)
    .filter(([k]) => k !== MetaChangeRequestKey && k !== prefixedChangeRequestKey)
    .map(([k, v]) => `* \`${k}\`: ${v}\n`)
    .join("");
  return (
    `${commentMarker(prefix, providerUid, event)}\n\n## Flux Status\n\n` +
    `${emoji} ${o.kind}/${o.namespace ?? ""}/${o.name}\n\n${event.message}\n\nMetadata:\n${metadata}`
  );
}

function changeRequestNumber(event: FluxEvent): number | undefined {
  const value = changeRequestOf(event);
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value)) {
    throw new DeliveryError(
      `invalid "${MetaChangeRequestKey}" metadata value ${JSON.stringify(value.slice(0, 64))}`,
      false,
    );
  }
  return Number(value);
}

interface CommentTarget {
  /** GET: the authenticated user (its login/username field). */
  user: HttpRequest;
  userField: (body: unknown) => string | undefined;
  list: (number: number) => HttpRequest;
  /** The author and id of a listed comment. */
  entry: (item: unknown) => { id?: number; author?: string; body?: string };
  edit: (number: number, id: number, body: string) => HttpRequest;
  create: (number: number, body: string) => HttpRequest;
}

/** Posts or edits one comment; the user name is looked up once per notifier (Flux does it when building one). */
export function changeRequestCommenter(target: CommentTarget, prefix: string, providerUid: string) {
  let login: string | undefined;
  return async (event: FluxEvent, transport: HttpTransport, signal?: AbortSignal): Promise<void> => {
    // Flux hands these providers only events that name a change request.
    const number = changeRequestNumber(event);
    if (number === undefined) return;
    if (login === undefined) {
      const res = await sendExpectingSuccess(transport, target.user, signal);
      const name = target.userField(parseJsonResponse(target.user, res, "authenticated user"));
      if (!name) throw new DeliveryError("failed to get authenticated user info", false);
      login = name;
    }
    const body = commentBody(prefix, providerUid, event);
    const marker = commentMarker(prefix, providerUid, event);
    const list = target.list(number);
    const listed = parseJsonResponse(list, await sendExpectingSuccess(transport, list, signal), "comment list");
    const mine = (Array.isArray(listed) ? listed : [])
      .map(target.entry)
      .find((c) => c.author === login && typeof c.body === "string" && c.body.includes(marker));
    const request = mine?.id !== undefined ? target.edit(number, mine.id, body) : target.create(number, body);
    await sendExpectingSuccess(transport, request, signal);
  };
}

export function giteaPullRequestTarget(repo: GiteaRepo): CommentTarget {
  const base = `${repo.api}/repos/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.repo)}/issues`;
  const json = (method: HttpRequest["method"], url: string, body: string): HttpRequest => ({
    method,
    url,
    headers: giteaHeaders(repo.token, true),
    body: JSON.stringify({ body }),
  });
  return {
    user: { method: "GET", url: `${repo.api}/user`, headers: giteaHeaders(repo.token, false) },
    userField: (u) => (u as { login?: string } | null)?.login,
    list: (n) => ({
      method: "GET",
      url: `${base}/${n}/comments?limit=100&page=1`,
      headers: giteaHeaders(repo.token, false),
    }),
    entry: (item) => {
      const c = item as { id?: number; body?: string; user?: { login?: string } } | null;
      return { id: c?.id, author: c?.user?.login, body: c?.body };
    },
    edit: (_n, id, body) => json("PATCH", `${base}/comments/${id}`, body),
    create: (n, body) => json("POST", `${base}/${n}/comments`, body),
  };
}

export function gitlabMergeRequestTarget(address: string, token: string): CommentTarget {
  const { host, id } = parseGitAddress(address);
  if (!id) throw new ProviderConfigError("invalid GitLab project id");
  const api = `${host}/api/v4`;
  const mr = (n: number) => `${api}/projects/${encodeURIComponent(id)}/merge_requests/${n}/notes`;
  const headers = { "private-token": token };
  const json = (method: HttpRequest["method"], url: string, body: string): HttpRequest => ({
    method,
    url,
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ body }),
  });
  return {
    user: { method: "GET", url: `${api}/user`, headers },
    userField: (u) => (u as { username?: string } | null)?.username,
    list: (n) => ({ method: "GET", url: `${mr(n)}?order_by=created_at&per_page=100&sort=asc`, headers }),
    entry: (item) => {
      const c = item as { id?: number; body?: string; author?: { username?: string } } | null;
      return { id: c?.id, author: c?.author?.username, body: c?.body };
    },
    edit: (n, noteId, body) => json("PUT", `${mr(n)}/${noteId}`, body),
    create: (n, body) => json("POST", mr(n), body),
  };
}
