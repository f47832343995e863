// GitHub and GitLab commit statuses on the commit of the event's revision, as Flux sets them: one status context per
// (object, Provider), state from severity, description from the reason, skipped when the latest identical status is
// already there.
import { type FluxEvent, isProgressing, MetaRevisionKey } from "../events/event.js";
import { DeliveryError, type HttpRequest, type HttpTransport, sendExpectingSuccess } from "./http.js";
import { ProviderConfigError } from "./settings.js";

export interface GitAddress {
  /** scheme://host[:port]; ssh becomes https. */
  host: string;
  /** owner/repo (GitLab: group/subgroup/project). */
  id: string;
}

export function parseGitAddress(address: string): GitAddress {
  const scp = /^(?:[\w.-]+@)?([\w.-]+):(?!\/\/)(.+)$/.exec(address);
  let host: string;
  let path: string;
  if (scp && !/^https?:|^ssh:/.test(address)) {
    host = `https://${scp[1]}`;
    path = scp[2] as string;
  } else {
    let u: URL;
    try {
      u = new URL(address);
    } catch (cause) {
      throw new ProviderConfigError("commit status provider address is not a valid repository URL", { cause });
    }
    const scheme = u.protocol === "ssh:" ? "https:" : u.protocol;
    host = `${scheme}//${u.host}`;
    path = decodeURIComponent(u.pathname);
  }
  const id = path.replace(/^\/+/, "").replace(/\.git$/, "");
  return { host, id };
}

/** The commit hash of a Flux revision: `main@sha1:<hex>`, `sha1:<hex>`, legacy `main/<hex>`, or a bare hash. */
export function parseRevision(revision: string): string {
  let rest = revision;
  const at = rest.lastIndexOf("@");
  if (at >= 0) rest = rest.slice(at + 1);
  const algo = /^(sha1|sha256):([0-9a-f]+)$/i.exec(rest);
  if (algo) rest = algo[2] as string;
  else if (rest.includes("/")) rest = rest.slice(rest.lastIndexOf("/") + 1);
  if (!/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i.test(rest)) {
    throw new DeliveryError(`failed to extract commit hash from '${revision}' revision`, false);
  }
  return rest.toLowerCase();
}

/** Splits CamelCase as Go's camelcase package does: "HealthCheckFailed" → ["Health", "Check", "Failed"]. */
export function splitCamelcase(src: string): string[] {
  const classOf = (c: string) => (/\p{Ll}/u.test(c) ? 1 : /\p{Lu}/u.test(c) ? 2 : /\p{Nd}/u.test(c) ? 3 : 4);
  const runs: string[][] = [];
  let last = 0;
  for (const c of src) {
    const cls = classOf(c);
    if (cls === last && runs.length > 0) (runs[runs.length - 1] as string[]).push(c);
    else runs.push([c]);
    last = cls;
  }
  for (let i = 0; i < runs.length - 1; i++) {
    const cur = runs[i] as string[];
    const next = runs[i + 1] as string[];
    if (classOf(cur[0] as string) === 2 && classOf(next[0] as string) === 1) {
      next.unshift(cur.pop() as string);
    }
  }
  return runs.filter((r) => r.length > 0).map((r) => r.join(""));
}

export function statusDescription(event: FluxEvent): string {
  return splitCamelcase(event.reason).join(" ").toLowerCase();
}

/** `<kind>/<name>/<first segment of the Provider UID>`, lowercased: unique per object and cluster. */
export function commitStatusId(providerUid: string, event: FluxEvent): string {
  const uidPart = providerUid.split("-")[0] ?? "";
  return `${event.involvedObject.kind}/${event.involvedObject.name}/${uidPart}`.toLowerCase();
}

/** The commit of the event: `originRevision` (an OCI artifact built from Git) wins over `revision`, as in Flux. */
export function revisionOf(event: FluxEvent): string {
  const revision = event.metadata?.originRevision ?? event.metadata?.[MetaRevisionKey];
  if (!revision) throw new DeliveryError("missing revision metadata", false);
  return parseRevision(revision);
}

export function stateFor(event: FluxEvent, success: string, failure: string): string {
  if (event.severity === "info") return success;
  if (event.severity === "error") return failure;
  throw new DeliveryError(`can't convert severity '${event.severity}' to a commit status state`, false);
}

export interface CommitStatusOptions {
  address: string;
  token: string;
  /** The commit status id: commitStatusId() or spec.commitStatusExpr's value. */
  statusId: string;
}

export interface OwnerAndRepo {
  owner: string;
  repo: string;
}

/** An `owner/repo` id (GitHub, Gitea, Bitbucket): exactly two non-empty segments. */
export function ownerAndRepo(id: string): OwnerAndRepo {
  const [owner, repo, ...extra] = id.split("/");
  if (!owner || !repo || extra.length > 0) throw new ProviderConfigError(`invalid repository id "${id}"`);
  return { owner, repo };
}

export function githubApiBase(host: string): string {
  return new URL(host).host === "github.com" ? "https://api.github.com/" : `${host}/api/v3/`;
}

export function githubStatusRequest(event: FluxEvent, opts: CommitStatusOptions): HttpRequest | undefined {
  // Progressing events would flip the status back and forth during every reconcile; Flux skips them too.
  if (isProgressing(event)) return undefined;
  const { host, id } = parseGitAddress(opts.address);
  const { owner, repo } = ownerAndRepo(id);
  const sha = revisionOf(event);
  const body = {
    state: stateFor(event, "success", "failure"),
    description: statusDescription(event),
    context: opts.statusId,
  };
  return {
    method: "POST",
    url: `${githubApiBase(host)}repos/${owner}/${repo}/statuses/${sha}`,
    headers: githubHeaders(opts.token),
    body: JSON.stringify(body),
  };
}

function githubHeaders(token: string): Record<string, string> {
  return {
    accept: "application/vnd.github.v3+json",
    authorization: `Bearer ${token}`,
    "content-type": "application/json",
    "user-agent": "capstan-notification-controller",
  };
}

export function gitlabStatusRequest(event: FluxEvent, opts: CommitStatusOptions): HttpRequest | undefined {
  if (isProgressing(event)) return undefined;
  const { host, id } = parseGitAddress(opts.address);
  if (!id) throw new ProviderConfigError("invalid GitLab project id");
  const sha = revisionOf(event);
  const body = {
    state: stateFor(event, "success", "failed"),
    name: opts.statusId,
    description: statusDescription(event),
  };
  return {
    method: "POST",
    url: `${host}/api/v4/projects/${encodeURIComponent(id)}/statuses/${sha}`,
    headers: { "content-type": "application/json", "private-token": opts.token },
    body: JSON.stringify(body),
  };
}

interface StatusBody {
  state: string;
  description: string;
  context?: string;
  name?: string;
}

/** GitHub lists newest first: the first status with our context decides. */
export function isDuplicateGithubStatus(existing: unknown, wanted: StatusBody): boolean {
  if (!Array.isArray(existing)) return false;
  for (const s of existing as Partial<StatusBody>[]) {
    if (s?.context !== wanted.context) continue;
    return s.state === wanted.state && s.description === wanted.description;
  }
  return false;
}

export function isDuplicateGitlabStatus(existing: unknown, wanted: StatusBody): boolean {
  if (!Array.isArray(existing)) return false;
  return (existing as { name?: string; status?: string; description?: string }[]).some(
    (s) => s?.name === wanted.name && s.status === wanted.state && s.description === wanted.description,
  );
}

/** Lists the commit's statuses, then sets ours unless the same one is already the latest. */
export async function postCommitStatus(
  kind: "github" | "gitlab",
  event: FluxEvent,
  opts: CommitStatusOptions,
  transport: HttpTransport,
  signal?: AbortSignal,
): Promise<void> {
  const post = kind === "github" ? githubStatusRequest(event, opts) : gitlabStatusRequest(event, opts);
  if (!post) return;
  const wanted = JSON.parse(post.body as string) as StatusBody;
  const listUrl =
    kind === "github"
      ? `${post.url.replace(/\/statuses\/([0-9a-f]+)$/, "/commits/$1/statuses")}?per_page=50`
      : post.url.replace(/\/statuses\/([0-9a-f]+)$/, "/repository/commits/$1/statuses");
  const { "content-type": _ct, ...listHeaders } = post.headers;
  const listed = await sendExpectingSuccess(transport, { method: "GET", url: listUrl, headers: listHeaders }, signal);
  let existing: unknown;
  try {
    existing = JSON.parse(listed.body);
  } catch {
    existing = undefined;
  }
  const duplicate =
    kind === "github" ? isDuplicateGithubStatus(existing, wanted) : isDuplicateGitlabStatus(existing, wanted);
  if (duplicate) return;
  await sendExpectingSuccess(transport, post, signal);
}
