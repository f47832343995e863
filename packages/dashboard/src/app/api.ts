// Calls to the dashboard's own API. The session is an HttpOnly cookie: the page never holds a token after login.
import type { Action, ActionResult, Detail, Identity } from "../shared/types.js";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const data = (await res.json().catch(() => ({}))) as T & { error?: string; message?: string };
  if (!res.ok) throw new HttpError(res.status, data.error ?? data.message ?? `HTTP ${res.status}`);
  return data;
}

export const whoami = () => call<Identity>("GET", "/api/whoami");
export const login = (token: string) => call<Identity>("POST", "/api/login", { token });
export const loginOptions = () => call<{ oidc: boolean }>("GET", "/api/login-options");
export const logout = () => call<{ ok: boolean }>("POST", "/api/logout", {});
export const detail = (kind: string, namespace: string, name: string) =>
  call<Detail>("GET", `/api/objects/${kind}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`);

export async function act(action: Action, kind: string, namespace: string, name: string): Promise<ActionResult> {
  const res = await fetch(
    `/api/actions/${action}/${kind}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`,
    { method: "POST", credentials: "same-origin", headers: { "content-type": "application/json" }, body: "{}" },
  );
  const data = (await res.json().catch(() => ({}))) as Partial<ActionResult> & { error?: string };
  return { ok: res.ok && data.ok === true, message: data.message ?? data.error ?? `HTTP ${res.status}` };
}

export const liveYaml = (i: { apiVersion: string; kind: string; namespace: string; name: string }) =>
  call<{ yaml: string }>(
    "GET",
    `/api/live?${new URLSearchParams({ apiVersion: i.apiVersion, kind: i.kind, namespace: i.namespace, name: i.name })}`,
  );
