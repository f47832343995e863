// spec.url and spec.ref of an OCIRepository: where the repository is, which reference to resolve, and how Flux spells
// the resulting revision.
import { OciError } from "./errors.js";

export interface OciRepositoryAddress {
  /** host[:port] requests go to (docker.io becomes registry-1.docker.io). */
  host: string;
  /** The host as written in the URL, the key credentials are looked up under. */
  configHost: string;
  /** Repository path, e.g. stefanprodan/manifests/podinfo (Docker Hub's library/ added for one-segment names). */
  repository: string;
}

const dockerHubHosts = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);
// The distribution spec's grammar for repository path components and tags.
const component = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;
export const digestPattern = /^sha256:[a-f0-9]{64}$/;

/** Parses oci://host[:port]/repo/path; a tag or digest in the URL is refused as Flux refuses it. */
export function parseOciUrl(url: string): OciRepositoryAddress {
  if (!url.startsWith("oci://"))
    throw new OciError("url", `URL must be in format 'oci://<domain>/<org>/<repo>'`, { stalling: true });
  const rest = url.slice("oci://".length);
  const slash = rest.indexOf("/");
  if (slash <= 0) throw new OciError("url", `URL '${url}' has no repository path`, { stalling: true });
  const configHost = rest.slice(0, slash).toLowerCase();
  let repository = rest.slice(slash + 1).replace(/\/+$/, "");
  if (/[@:]/.test(repository)) {
    throw new OciError("url", `URL '${url}' must not contain a tag or digest: use spec.ref`, { stalling: true });
  }
  if (!/^[a-z0-9.-]+(:[0-9]{1,5})?$/.test(configHost) || !repository.split("/").every((c) => component.test(c))) {
    throw new OciError("url", `URL '${url}' is not a valid OCI repository address`, { stalling: true });
  }
  let host = configHost;
  if (dockerHubHosts.has(configHost)) {
    host = "registry-1.docker.io";
    if (!repository.includes("/")) repository = `library/${repository}`;
  }
  return { host, configHost, repository };
}

export type OciRef =
  | { type: "digest"; digest: string }
  | { type: "semver"; range: string; filter?: string }
  | { type: "tag"; tag: string };

/** spec.ref with Flux's precedence: digest, then semver, then tag; 'latest' when unset. */
export function parseRef(
  ref: { digest?: string; semver?: string; semverFilter?: string; tag?: string } | undefined,
): OciRef {
  if (ref?.digest) {
    if (!digestPattern.test(ref.digest)) {
      throw new OciError("ref", `ref.digest '${ref.digest}' is not a sha256 digest ('sha256:<64 hex>')`, {
        stalling: true,
      });
    }
    return { type: "digest", digest: ref.digest };
  }
  if (ref?.semver)
    return { type: "semver", range: ref.semver, ...(ref.semverFilter ? { filter: ref.semverFilter } : {}) };
  const tag = ref?.tag || "latest";
  if (!tagPattern.test(tag)) throw new OciError("ref", `ref.tag '${tag}' is not a valid tag`, { stalling: true });
  return { type: "tag", tag };
}

/** Flux's revision: '<tag>@sha256:<hex>' for a tag (or semver-chosen tag), 'sha256:<hex>' for a digest ref. */
export function revisionOf(tag: string | undefined, digest: string): string {
  return tag ? `${tag}@${digest}` : digest;
}
