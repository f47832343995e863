// (Capstan) The checkout of a named reference through the GitCache: the first GitRepository of a URL, ref and
// credentials fetches the commit (shallow) into the cache's bare repository and reads what the ref points to with one
// for-each-ref; every later one whose ls-remote named the same commit reuses that; the tree then reaches `dir` with
// one `git read-tree -u` (the same unpack as checkout, with git's own path checks and attribute conversions), so a
// warm fetch is two git processes (ls-remote, read-tree) instead of seven. The result has no .git directory:
// verification, submodules and sparse checkout, which need one, take the plain path (checkout.ts).
import { createHash } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import type { CachedCommit, CacheRepo, GitCache } from "./cache.js";
import type { CheckoutOptions, CheckoutResult } from "./checkout.js";
import { runGit } from "./exec.js";
import type { ResolvedRef } from "./remote.js";
import { formatRevision } from "./revision.js";
import type { GitSession } from "./session.js";

export async function checkoutCached(
  cache: GitCache,
  key: string,
  session: GitSession,
  url: string,
  resolved: ResolvedRef,
  dir: string,
  options: CheckoutOptions = {},
): Promise<CheckoutResult> {
  const run = (repo: CacheRepo, args: string[], operation: string, env?: Record<string, string>) =>
    runGit(session, [`--git-dir=${repo.dir}`, ...args], {
      cwd: repo.dir,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      operation,
      ...(env ? { env } : {}),
    });
  const repo = await cache.acquire(key, async (repoDir) => {
    await mkdir(repoDir, { recursive: true, mode: 0o700 });
    await runGit(session, ["init", "-q", "--bare", repoDir], { timeoutMs: options.timeoutMs, operation: "git init" });
  });
  let broken = false;
  try {
    const wanted = `${resolved.reference}\0${resolved.commit}`;
    let found = repo.fetched.get(wanted);
    if (!found) {
      found = await cache.exclusive(repo, async () => {
        // Another GitRepository may have fetched it while this one waited for the lock.
        const again = repo.fetched.get(wanted);
        if (again) return again;
        const local = `refs/capstan/${createHash("sha256").update(resolved.reference).digest("hex").slice(0, 24)}`;
        repo.fetches++;
        try {
          await run(
            repo,
            ["fetch", "-q", "--depth=1", "--no-tags", url, `+${resolved.reference}:${local}`],
            "git fetch",
          );
        } catch (err) {
          broken = true;
          throw err;
        }
        const commit = await describeRef(repo, local, run);
        repo.fetched.set(wanted, commit);
        // The ref may have moved since ls-remote: what was fetched is also what a later ls-remote will name.
        repo.fetched.set(`${resolved.reference}\0${commit.commit}`, commit);
        return commit;
      });
    }
    await mkdir(dir, { recursive: true });
    const index = `${dir}.index`;
    try {
      await run(repo, [`--work-tree=${dir}`, "read-tree", "-u", "--reset", found.commit], "git checkout", {
        GIT_INDEX_FILE: index,
      });
    } finally {
      await rm(index, { force: true });
    }
    const result: CheckoutResult = {
      dir,
      reference: resolved.reference,
      commit: found.commit,
      revision: formatRevision(resolved.reference, found.commit),
      subject: found.subject,
    };
    if (found.tagObject) result.tagObject = found.tagObject;
    return result;
  } finally {
    cache.release(key, repo, broken);
  }
}

/**
 * What `local` names after the fetch, in one process: the object (a tag object for annotated tags), the commit under
 * it and the first line of that commit's message. A tag of a tag is peeled with rev-parse and log, as checkout.ts does.
 */
async function describeRef(
  repo: CacheRepo,
  local: string,
  run: (repo: CacheRepo, args: string[], operation: string) => Promise<string>,
): Promise<CachedCommit> {
  const out = await run(
    repo,
    [
      "for-each-ref",
      "--format=%(objectname) %(objecttype) %(*objectname) %(*objecttype)%00%(contents)%00%(*contents)",
      local,
    ],
    "git for-each-ref",
  );
  const [head = "", contents = "", peeledContents = ""] = out.split("\0");
  const [object = "", type = "", peeled = "", peeledType = ""] = head.trim().split(" ");
  const firstLine = (s: string) => s.split("\n")[0] ?? "";
  if (type === "commit") return { commit: object, subject: firstLine(contents) };
  if (type === "tag" && peeledType === "commit") {
    return { commit: peeled, subject: firstLine(peeledContents), tagObject: object };
  }
  const commit = (await run(repo, ["rev-parse", `${local}^{commit}`], "git rev-parse")).trim();
  const message = await run(repo, ["log", "-1", "--format=%B", commit], "git log");
  const result: CachedCommit = { commit, subject: firstLine(message) };
  if (object !== commit) result.tagObject = object;
  return result;
}
