// Fetches exactly the resolved commit (shallow where possible) into a fresh directory and checks it out, with
// optional sparse checkout and submodules.
import { mkdir, writeFile } from "node:fs/promises";
import { join, posix } from "node:path";
import { GitError } from "../errors.js";
import { runGit } from "./exec.js";
import { isFullHash, type ResolvedRef } from "./remote.js";
import { formatRevision } from "./revision.js";
import type { GitSession } from "./session.js";

export interface CheckoutOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  recurseSubmodules?: boolean;
  /** Directories to check out; everything else is left out of the work tree. */
  sparseCheckout?: readonly string[];
}

export interface CheckoutResult {
  dir: string;
  reference: string;
  commit: string;
  revision: string;
  /** The first line of the commit message (Flux puts its first 50 characters in the NewArtifact event). */
  subject: string;
  /** The local name to pass to `git verify-tag` when the reference is an annotated tag. */
  tagObject?: string;
}

const target = "refs/remotes/origin/capstan-target";

/** Normalizes a sparse-checkout directory and refuses ones that leave the repository. */
export function sparsePattern(dir: string): string {
  const clean = posix.normalize(`/${dir.trim()}`).replace(/\/+$/, "");
  if (clean === "" || clean === "/") return "/*";
  if (clean.split("/").includes("..")) {
    throw new GitError("other", `invalid sparseCheckout directory '${dir}'`, { stalling: true });
  }
  return `${clean}/`;
}

export async function checkoutResolved(
  session: GitSession,
  url: string,
  resolved: ResolvedRef,
  dir: string,
  options: CheckoutOptions = {},
): Promise<CheckoutResult> {
  const run = (args: string[], operation: string) =>
    runGit(session, args, { cwd: dir, timeoutMs: options.timeoutMs, signal: options.signal, operation });
  await mkdir(dir, { recursive: true });
  await run(["init", "-q", "."], "git init");
  await run(["remote", "add", "origin", url], "git remote add");
  if (options.sparseCheckout?.length) {
    const patterns = options.sparseCheckout.map(sparsePattern);
    await run(["config", "core.sparseCheckout", "true"], "git config");
    await mkdir(join(dir, ".git", "info"), { recursive: true });
    await writeFile(join(dir, ".git", "info", "sparse-checkout"), `${patterns.join("\n")}\n`);
  }

  let commit = resolved.commit;
  let tagObject: string | undefined;
  if (!resolved.pinned) {
    // Named refs: fetch the ref itself (any server allows it), then use whatever it points to now.
    await run(["fetch", "--depth=1", "--no-tags", "origin", `+${resolved.reference}:${target}`], "git fetch");
    // One process for both: the object the ref names (a tag object for annotated tags) and the commit under it.
    const [object = "", peeled = ""] = (await run(["rev-parse", target, `${target}^{commit}`], "git rev-parse"))
      .trim()
      .split("\n");
    commit = peeled;
    if (object !== commit) tagObject = object;
  } else {
    commit = await fetchCommit(run, resolved);
  }
  await run(["checkout", "-q", "--detach", commit], "git checkout");
  if (options.recurseSubmodules) {
    await run(["submodule", "update", "--init", "--recursive", "--depth=1"], "git submodule update");
  }
  const message = await run(["log", "-1", "--format=%B", commit], "git log");
  const subject = message.split("\n")[0] ?? "";
  const result: CheckoutResult = {
    dir,
    reference: resolved.reference,
    commit,
    revision: formatRevision(resolved.reference, commit),
    subject,
  };
  if (tagObject) result.tagObject = tagObject;
  return result;
}

async function fetchCommit(
  run: (args: string[], op: string) => Promise<string>,
  resolved: ResolvedRef,
): Promise<string> {
  const wanted = resolved.commit;
  if (resolved.reference) {
    // Commit within a branch: fetch the branch's history and insist the commit is on it, as Flux does.
    await run(["fetch", "--no-tags", "origin", `+${resolved.reference}:${target}`], "git fetch");
    try {
      const commit = await revParse(run, wanted);
      await run(["merge-base", "--is-ancestor", commit, target], "git merge-base");
      return commit;
    } catch (cause) {
      throw new GitError("notFound", `commit '${wanted}' is not in branch '${resolved.reference.slice(11)}'`, {
        cause,
      });
    }
  }
  if (isFullHash(wanted)) {
    try {
      await run(["fetch", "--depth=1", "--no-tags", "origin", wanted], "git fetch");
      return await revParse(run, wanted);
    } catch {
      // The server may refuse unadvertised objects; fall back to fetching every branch and tag.
    }
  }
  await run(
    ["fetch", "--no-tags", "origin", "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"],
    "git fetch",
  );
  return revParse(run, wanted);
}

async function revParse(run: (args: string[], op: string) => Promise<string>, commit: string): Promise<string> {
  try {
    return (await run(["rev-parse", "--verify", "--quiet", `${commit}^{commit}`], "git rev-parse")).trim();
  } catch (cause) {
    throw new GitError("notFound", `commit '${commit}' not found in the remote repository (check spec.ref.commit)`, {
      cause,
    });
  }
}
