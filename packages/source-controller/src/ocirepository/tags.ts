// ref.semver: the highest tag within the range, after ref.semverFilter, as Flux chooses it.
import semver from "semver";
import { OciError } from "./errors.js";

/** The tag to pull among `tags`; throws a ReadOperationFailed error when the range or filter is invalid or nothing matches. */
export function chooseSemverTag(tags: readonly string[], range: string, filter?: string): string {
  const valid = semver.validRange(range);
  if (!valid) throw new OciError("ref", `semver '${range}' is not a valid range`, { stalling: true });
  let pattern: RegExp | undefined;
  if (filter) {
    try {
      pattern = new RegExp(filter);
    } catch (cause) {
      throw new OciError("ref", `semverFilter '${filter}' is not a valid regular expression`, {
        stalling: true,
        cause,
      });
    }
  }
  // As Masterminds/semver (Flux's) reads a range: one that names a prerelease admits prereleases of any version.
  const includePrerelease = /\d-[0-9A-Za-z]/.test(range);
  let best: { tag: string; version: semver.SemVer } | undefined;
  for (const tag of tags) {
    if (pattern && !pattern.test(tag)) continue;
    const version = semver.parse(tag, { loose: true }) ?? semver.parse(tag.replace(/^v/, ""), { loose: true });
    if (!version || !semver.satisfies(version, valid, { loose: true, includePrerelease })) continue;
    if (!best || semver.gt(version, best.version)) best = { tag, version };
  }
  if (!best) throw new OciError("ref", `no match found for semver: ${range}`);
  return best.tag;
}
