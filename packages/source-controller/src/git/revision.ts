// Revision strings in Flux's format: "<short ref>@<algo>:<hash>" for branches, tags and other named refs, and
// "<algo>:<hash>" for a commit without a reference.

export type HashAlgorithm = "sha1" | "sha256";

export function hashAlgorithm(hash: string): HashAlgorithm {
  return hash.length === 64 ? "sha256" : "sha1";
}

export function digestOf(hash: string): string {
  return `${hashAlgorithm(hash)}:${hash}`;
}

/** refs/heads/main -> main, refs/tags/v1 -> v1, anything else unchanged (refs/pull/1/head stays as is). */
export function shortRef(reference: string): string {
  for (const prefix of ["refs/heads/", "refs/tags/"]) {
    if (reference.startsWith(prefix)) return reference.slice(prefix.length);
  }
  return reference;
}

/** The revision Flux reports for a commit checked out through `reference` ("" when there is none). */
export function formatRevision(reference: string, hash: string): string {
  return reference ? `${shortRef(reference)}@${digestOf(hash)}` : digestOf(hash);
}

export interface ParsedRevision {
  /** The short reference ("main", "v1.2.3", "refs/pull/1/head"), or "" for a bare commit. */
  ref: string;
  algorithm: HashAlgorithm;
  hash: string;
}

/**
 * Parses a Flux revision, including the legacy "<ref>/<hash>" form that older Flux versions wrote, so that a status
 * written by them still compares equal.
 */
export function parseRevision(revision: string): ParsedRevision | undefined {
  const modern = /^(?:(.+)@)?(sha1|sha256):([0-9a-f]{40}|[0-9a-f]{64})$/.exec(revision);
  if (modern) {
    return { ref: modern[1] ?? "", algorithm: modern[2] as HashAlgorithm, hash: modern[3] ?? "" };
  }
  const legacy = /^(?:(.+)\/)?([0-9a-f]{40}|[0-9a-f]{64})$/.exec(revision);
  if (legacy) {
    const hash = legacy[2] ?? "";
    return { ref: legacy[1] ?? "", algorithm: hashAlgorithm(hash), hash };
  }
  return undefined;
}

/** A commit subject as Flux's git.Commit.ShortMessage gives it: the first line, cut to 50 characters plus "...". */
export function shortMessage(message: string): string {
  const subject = [...(message.split("\n")[0] ?? "")];
  return subject.length > 50 ? `${subject.slice(0, 50).join("")}...` : subject.join("");
}
