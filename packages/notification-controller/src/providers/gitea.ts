// Gitea (and Forgejo) commit statuses, as Flux's gitea notifier sets them through the Gitea SDK: `token` auth, the
// latest status with our context compared first, Progressing events shown as `pending`.
import { type FluxEvent, isProgressing } from "../events/event.js";
import { type OwnerAndRepo, ownerAndRepo, parseGitAddress, revisionOf, statusDescription } from "./commit-status.js";
import {
  DeliveryError,
  type HttpRequest,
  type HttpTransport,
  parseJsonResponse,
  sendExpectingSuccess,
} from "./http.js";

export interface GiteaRepo extends OwnerAndRepo {
  /** https://host[:port]/api/v1 */
  api: string;
  token: string;
}

export function giteaRepo(address: string, token: string): GiteaRepo {
  const { host, id } = parseGitAddress(address);
  return { api: `${host}/api/v1`, ...ownerAndRepo(id), token };
}

export function giteaHeaders(token: string, json: boolean): Record<string, string> {
  const headers: Record<string, string> = { authorization: `token ${token}`, accept: "application/json" };
  if (json) headers["content-type"] = "application/json";
  return headers;
}

export function giteaState(event: FluxEvent): string {
  if (isProgressing(event)) return "pending";
  if (event.severity === "info") return "success";
  if (event.severity === "error") return "failure";
  throw new DeliveryError("can't convert to gitea state", false);
}

interface GiteaStatus {
  state?: string;
  description?: string;
  context?: string;
}

/** The first listed status with our context decides; entries missing a field are ignored, as Flux does. */
export function isDuplicateGiteaStatus(existing: unknown, wanted: Required<GiteaStatus>): boolean {
  if (!Array.isArray(existing)) return false;
  for (const s of existing as GiteaStatus[]) {
    if (!s?.context || !s.state || !s.description) continue;
    if (s.context === wanted.context) return s.state === wanted.state && s.description === wanted.description;
  }
  return false;
}

export async function postGiteaStatus(
  repo: GiteaRepo,
  /** The commit status id: the default `<kind>/<name>/<uid prefix>` or spec.commitStatusExpr's. */
  statusId: string,
  event: FluxEvent,
  transport: HttpTransport,
  signal?: AbortSignal,
): Promise<void> {
  const sha = revisionOf(event);
  const wanted = {
    state: giteaState(event),
    target_url: "",
    description: statusDescription(event),
    context: statusId,
  };
  const base = `${repo.api}/repos/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.repo)}`;
  const list: HttpRequest = {
    method: "GET",
    url: `${base}/commits/${sha}/statuses?limit=50&page=1`,
    headers: giteaHeaders(repo.token, false),
  };
  const listed = await sendExpectingSuccess(transport, list, signal);
  if (isDuplicateGiteaStatus(parseJsonResponse(list, listed, "commit status list"), wanted)) return;
  await sendExpectingSuccess(
    transport,
    {
      method: "POST",
      url: `${base}/statuses/${sha}`,
      headers: giteaHeaders(repo.token, true),
      body: JSON.stringify(wanted),
    },
    signal,
  );
}
