// Resolves the spec's reference against the remote with one `git ls-remote`, so an unchanged remote costs no clone.
// (Capstan) Over HTTP(S), directly or through an http(s) proxy, the listing is read in process first (smart-http.ts);
// git runs it otherwise.

import type { ProxyTarget } from "@capstan/runtime";
import { GitError } from "../errors.js";
import type { HttpAuth } from "./auth.js";
import { runGit } from "./exec.js";
import { type CheckoutStrategy, commitOf, parseLsRemote, type RemoteRef, selectSemverTag } from "./reference.js";
import { formatRevision } from "./revision.js";
import type { GitSession } from "./session.js";
import { lsRemoteHttp } from "./smart-http.js";

/** A session, or how to open one: the in-process listing needs none, so the caller's may open only if git runs. */
export type SessionSource = GitSession | (() => Promise<GitSession>);

const sessionOf = (source: SessionSource): Promise<GitSession> =>
  typeof source === "function" ? source() : Promise.resolve(source);

export interface ResolvedRef {
  /** Full reference name ("refs/heads/main", "refs/tags/v1.0.0", "refs/pull/1/head"), or "" for a bare commit. */
  reference: string;
  /** The commit to check out; for a bare commit spec this may be abbreviated until checkout completes it. */
  commit: string;
  /** For annotated tags: the tag object's hash (what Tag verification checks). */
  tagObject?: string;
  /** Flux's revision string. */
  revision: string;
  /** Set when the spec pinned a commit: checkout fetches that commit rather than the reference's head. */
  pinned?: boolean;
}

export interface RemoteOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

const fullHash = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * The remote's refs. With `direct` (the HTTP(S) credentials; `proxy`, the http(s) proxy to reach the remote through)
 * the smart protocol's advertisement is read in process, and `git ls-remote` runs only when that read hands over (a
 * redirect, dumb HTTP, a failure: git reports it), with what is left of the timeout.
 */
export async function listRemote(
  session: SessionSource,
  url: string,
  options: RemoteOptions = {},
  direct?: HttpAuth,
  /** The http(s) proxy the in-process read goes through (the one git would be given). */
  proxy?: ProxyTarget,
): Promise<Map<string, RemoteRef>> {
  const operation = "git ls-remote";
  const run = async (timeoutMs = options.timeoutMs) =>
    parseLsRemote(
      await runGit(await sessionOf(session), ["ls-remote", "--", url], {
        ...options,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        operation,
      }),
    );
  if (!direct) return run();
  const started = performance.now();
  const limit = options.timeoutMs && options.timeoutMs > 0 ? options.timeoutMs : defaultListTimeoutMs;
  const listing = await lsRemoteHttp(url, direct, {
    timeoutMs: limit,
    operation,
    ...signalOf(options),
    ...(proxy ? { proxy } : {}),
  });
  if (listing !== undefined) return parseLsRemote(listing);
  return run(Math.max(1, limit - (performance.now() - started))).catch((err: unknown) => {
    // The message names the whole deadline (spec.timeout), not the part of it git had.
    if (err instanceof GitError && err.kind === "timeout") {
      throw new GitError("timeout", `${operation}: timed out after ${Math.round(limit / 1000)}s`);
    }
    throw err;
  });
}

/** The in-process listing's deadline when the caller gives none (git's process has none then either). */
const defaultListTimeoutMs = 60_000;

const signalOf = (options: RemoteOptions) => (options.signal ? { signal: options.signal } : {});

/** Resolves a strategy to a commit. A commit strategy needs no network round trip. */
export async function resolveRemote(
  session: SessionSource,
  url: string,
  strategy: CheckoutStrategy,
  options: RemoteOptions = {},
  /** How to list the remote's refs; the GitCache passes one shared by concurrent callers of a URL and credentials. */
  list: () => Promise<Map<string, RemoteRef>> = () => listRemote(session, url, options),
): Promise<ResolvedRef> {
  if (strategy.kind === "commit") {
    const commit = strategy.commit.toLowerCase();
    if (!/^[0-9a-f]{4,64}$/.test(commit)) {
      throw new GitError("notFound", `invalid commit '${strategy.commit}': must be a hexadecimal SHA`, {
        stalling: true,
      });
    }
    const reference = strategy.branch ? `refs/heads/${strategy.branch}` : "";
    return { reference, commit, revision: formatRevision(reference, commit), pinned: true };
  }
  const refs = await list();
  if (refs.size === 0) {
    throw new GitError("emptyRepository", "remote repository is empty: push a first commit, then it will be fetched");
  }
  const pick = (reference: string, what: string): ResolvedRef => {
    const ref = refs.get(reference);
    if (!ref) throw new GitError("notFound", `${what} not found in the remote repository (check spec.ref)`);
    const commit = commitOf(ref);
    const resolved: ResolvedRef = { reference, commit, revision: formatRevision(reference, commit) };
    if (ref.peeled) resolved.tagObject = ref.hash;
    return resolved;
  };
  switch (strategy.kind) {
    case "branch":
      return pick(`refs/heads/${strategy.branch}`, `branch '${strategy.branch}'`);
    case "tag":
      return pick(`refs/tags/${strategy.tag}`, `tag '${strategy.tag}'`);
    case "name":
      if (!strategy.name.startsWith("refs/")) {
        throw new GitError(
          "notFound",
          `invalid ref name '${strategy.name}': must be a full reference such as refs/heads/main`,
          {
            stalling: true,
          },
        );
      }
      return pick(strategy.name, `reference '${strategy.name}'`);
    case "semver": {
      const tags = [...refs.keys()].filter((r) => r.startsWith("refs/tags/")).map((r) => r.slice("refs/tags/".length));
      const tag = selectSemverTag(strategy.range, tags);
      if (!tag) throw new GitError("notFound", `no tag matches the semver range '${strategy.range}'`);
      return pick(`refs/tags/${tag}`, `tag '${tag}'`);
    }
  }
}

export function isFullHash(commit: string): boolean {
  return fullHash.test(commit);
}
