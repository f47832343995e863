// Path checks that keep a build inside the artifact: no remote bases, nothing outside the extracted tree.
import { lstat, realpath } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";

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

/**
 * The real path of `target` (lexically resolved against root first, as kustomize joins and cleans paths before
 * opening them) if it lies inside `root` once every symlink is followed, else undefined. `root` must be a real path.
 * A path that does not exist yet is judged by its deepest existing ancestor, so a dangling or not-yet-created
 * name cannot hide an escape either.
 */
export async function resolveRealInside(root: string, target: string): Promise<string | undefined> {
  const lexical = resolveInside(root, target);
  if (lexical === undefined) return undefined;
  let rest = "";
  for (let p = lexical; ; p = dirname(p)) {
    try {
      const real = join(await realpath(p), rest);
      return resolveInside(root, real) === undefined ? undefined : real;
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") return undefined;
      // A dangling symlink: where a write through it would land is not ours to guess.
      if (
        await lstat(p).then(
          () => true,
          () => false,
        )
      )
        return undefined;
      if (p === dirname(p)) return undefined;
      rest = join(basename(p), rest);
    }
  }
}
