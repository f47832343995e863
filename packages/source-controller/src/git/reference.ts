// Which Git reference a GitRepository's spec.ref selects, with Flux's precedence:
// commit > name > semver > tag > branch (default "master").
import type { GitRepositoryRef } from "@capstan/api";
import semver from "semver";
import { GitError } from "../errors.js";

export type { GitRepositoryRef };

export const defaultBranch = "master";

export type CheckoutStrategy =
  | { kind: "commit"; commit: string; branch?: string }
  | { kind: "name"; name: string }
  | { kind: "semver"; range: string }
  | { kind: "tag"; tag: string }
  | { kind: "branch"; branch: string };

export function checkoutStrategy(ref: GitRepositoryRef | undefined): CheckoutStrategy {
  if (ref?.commit)
    return ref.branch
      ? { kind: "commit", commit: ref.commit, branch: ref.branch }
      : { kind: "commit", commit: ref.commit };
  if (ref?.name) return { kind: "name", name: ref.name };
  if (ref?.semver) return { kind: "semver", range: ref.semver };
  if (ref?.tag) return { kind: "tag", tag: ref.tag };
  return { kind: "branch", branch: ref?.branch || defaultBranch };
}

/** One line of `git ls-remote`: the object a ref points to, and for annotated tags the commit it peels to. */
export interface RemoteRef {
  name: string;
  hash: string;
  /** For annotated tags: the commit the tag object points to (from the "^{}" line). */
  peeled?: string;
}

export function parseLsRemote(output: string): Map<string, RemoteRef> {
  const refs = new Map<string, RemoteRef>();
  for (const line of output.split("\n")) {
    const [hash, name] = line.trim().split(/\s+/, 2);
    if (!hash || !name) continue;
    if (name.endsWith("^{}")) {
      const base = name.slice(0, -3);
      const existing = refs.get(base);
      refs.set(base, { name: base, hash: existing?.hash ?? hash, peeled: hash });
    } else {
      const existing = refs.get(name);
      refs.set(name, existing?.peeled ? { name, hash, peeled: existing.peeled } : { name, hash });
    }
  }
  return refs;
}

/** The commit a remote ref resolves to (peeling annotated tags). */
export function commitOf(ref: RemoteRef): string {
  return ref.peeled ?? ref.hash;
}

/**
 * Parses a tag as a version the way Flux does (Masterminds' lenient parser): "v1.2.3", "1.2.3-rc.1", and the partial
 * forms "1.2" and "v1" are versions; anything else is not.
 */
export function parseTagVersion(tag: string): semver.SemVer | undefined {
  const strict = semver.parse(tag, { loose: true });
  if (strict) return strict;
  const partial = /^v?(\d+)(?:\.(\d+))?$/.exec(tag);
  if (!partial) return undefined;
  return semver.parse(`${partial[1]}.${partial[2] ?? "0"}.0`) ?? undefined;
}

/** Translates Masterminds constraint syntax (comma means AND, "||" means OR) into node-semver's range syntax. */
export function toNodeRange(constraint: string): string {
  return constraint
    .split("||")
    .map((part) =>
      part
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean)
        .join(" "),
    )
    .join(" || ");
}

/**
 * The highest tag whose version satisfies the range. Versions equal but for build metadata tie: the later tag name
 * (lexically) wins, since ls-remote gives us no commit timestamps to order them as Flux does.
 */
export function selectSemverTag(range: string, tags: readonly string[]): string | undefined {
  const nodeRange = semver.validRange(toNodeRange(range));
  if (!nodeRange) {
    throw new GitError("other", `invalid semver range '${range}'`, { stalling: true });
  }
  let best: { tag: string; version: semver.SemVer } | undefined;
  for (const tag of tags) {
    const version = parseTagVersion(tag);
    if (!version || !semver.satisfies(version, nodeRange)) continue;
    if (!best) {
      best = { tag, version };
      continue;
    }
    const order = semver.compare(version, best.version);
    if (order > 0 || (order === 0 && tag > best.tag)) best = { tag, version };
  }
  return best?.tag;
}
