// Path checks that keep a build inside the artifact: no remote bases, nothing outside the extracted tree.
import { isAbsolute, relative, resolve } from "node:path";

/** URLs, git and scp-like references and go-getter forms that would make kustomize fetch over the network. */
export function isRemoteReference(ref: string): boolean {
  return (
    /^[a-z][a-z0-9+.-]*::/i.test(ref) ||
    /^[a-z][a-z0-9+.-]*:\/\//i.test(ref) ||
    /^[\w.-]+@[\w.-]+:/.test(ref) ||
    /^(github\.com|gitlab\.com|bitbucket\.org)\//i.test(ref) ||
    /[?&](ref|version|submodules|timeout)=/.test(ref)
  );
}

/** The absolute path of `target` if it lies inside root (or is root), else undefined. */
export function resolveInside(root: string, target: string): string | undefined {
  const abs = resolve(root, target);
  const rel = relative(resolve(root), abs);
  if (rel === "") return abs;
  if (rel.startsWith("..") || isAbsolute(rel)) return undefined;
  return abs;
}
