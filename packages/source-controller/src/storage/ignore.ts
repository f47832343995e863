// Which files of a checkout go into the artifact, with Flux's .sourceignore semantics: the VCS patterns always
// apply; Flux's default exclusions apply only when neither a .sourceignore file nor spec.ignore gives patterns;
// a .sourceignore in a subdirectory scopes its patterns to that subdirectory; later sources win (root file, then
// deeper files, then spec.ignore).
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import ignore, { type Ignore } from "ignore";

export const ignoreFileName = ".sourceignore";
export const excludeVCS = [".git/", ".gitignore", ".gitmodules", ".gitattributes"];
export const excludeExt = ["*.jpg", "*.jpeg", "*.gif", "*.png", "*.wmv", "*.flv", "*.tar.gz", "*.zip"];
export const excludeCI = [
  ".github/",
  ".circleci/",
  ".travis.yml",
  ".gitlab-ci.yml",
  "appveyor.yml",
  ".drone.yml",
  "cloudbuild.yaml",
  "codeship-services.yml",
  "codeship-steps.yml",
];
export const excludeExtra = ["**/.goreleaser.yml", "**/.sops.yaml", "**/.flux.yaml"];

/** Pattern lines of a .sourceignore text: comments and blank lines dropped, as Flux reads them. */
export function readPatterns(text: string): string[] {
  return text.split(/\r?\n/).filter((line) => !line.startsWith("#") && line.trim().length > 0);
}

interface Layer {
  /** Directory the patterns are relative to: "" for the root, else "a/b/". */
  domain: string;
  matcher: Ignore;
}

export interface IgnoreMatcher {
  /** True when `relPath` ("a/b.yaml", POSIX separators) should be left out of the artifact. */
  ignores(relPath: string, isDir: boolean): boolean;
}

/** Builds a matcher from ordered (domain, patterns) sources; a later source overrides an earlier one. */
export function matcherFrom(sources: readonly { domain: string; patterns: readonly string[] }[]): IgnoreMatcher {
  const layers: Layer[] = sources
    .filter((s) => s.patterns.length > 0)
    .map((s) => ({
      domain: s.domain && !s.domain.endsWith("/") ? `${s.domain}/` : s.domain,
      matcher: ignore({ allowRelativePaths: true }).add([...s.patterns]),
    }));
  return {
    ignores(relPath, isDir) {
      let ignored = false;
      for (const layer of layers) {
        if (!relPath.startsWith(layer.domain) || relPath === layer.domain) continue;
        const rel = relPath.slice(layer.domain.length) + (isDir ? "/" : "");
        const result = layer.matcher.test(rel);
        if (result.ignored) ignored = true;
        else if (result.unignored) ignored = false;
      }
      return ignored;
    },
  };
}

/** Finds every .sourceignore below root (not under .git), parents before children, siblings sorted. */
export async function loadIgnoreFiles(root: string, domain = ""): Promise<{ domain: string; patterns: string[] }[]> {
  const out: { domain: string; patterns: string[] }[] = [];
  const dir = join(root, domain);
  const entries = await readdir(dir, { withFileTypes: true });
  const file = entries.find((e) => e.name === ignoreFileName && e.isFile());
  if (file) out.push({ domain, patterns: readPatterns(await readFile(join(dir, ignoreFileName), "utf8")) });
  const dirs = entries.filter((e) => e.isDirectory() && e.name !== ".git").map((e) => e.name);
  for (const name of dirs.sort()) out.push(...(await loadIgnoreFiles(root, `${domain}${name}/`)));
  return out;
}

/** The matcher for a checkout at `root` with the GitRepository's spec.ignore. */
export async function loadIgnoreMatcher(root: string, specIgnore?: string): Promise<IgnoreMatcher> {
  const files = (await loadIgnoreFiles(root)).filter((f) => f.patterns.length > 0);
  const user = specIgnore === undefined ? [] : readPatterns(specIgnore);
  const hasUserPatterns = files.length > 0 || user.length > 0;
  return matcherFrom([
    {
      domain: "",
      patterns: hasUserPatterns ? excludeVCS : [...excludeVCS, ...excludeExt, ...excludeCI, ...excludeExtra],
    },
    ...files,
    { domain: "", patterns: user },
  ]);
}
