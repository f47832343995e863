import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadIgnoreMatcher, matcherFrom, readPatterns } from "./ignore.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "capstan-ignore-"));
  dirs.push(root);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

describe("loadIgnoreMatcher", () => {
  it("Given no ignore sources / should apply Flux's default exclusions", async () => {
    const m = await loadIgnoreMatcher(await tree({ "a.yaml": "" }));
    expect(m.ignores(".git", true)).toBe(true);
    expect(m.ignores("img/logo.png", false)).toBe(true);
    expect(m.ignores(".github", true)).toBe(true);
    expect(m.ignores("deep/.sops.yaml", false)).toBe(true);
    expect(m.ignores("deploy/app.yaml", false)).toBe(false);
  });

  it("Given spec.ignore / should replace the defaults but keep the VCS exclusions", async () => {
    const m = await loadIgnoreMatcher(await tree({}), "/*\n!/deploy\n");
    expect(m.ignores("README.md", false)).toBe(true);
    expect(m.ignores("deploy", true)).toBe(false);
    expect(m.ignores("deploy/logo.png", false)).toBe(false);
    expect(m.ignores(".gitignore", false)).toBe(true);
  });

  it("Given a .sourceignore in a subdirectory / should scope its patterns to that directory", async () => {
    const root = await tree({ "sub/.sourceignore": "# comment\n*.txt\n", "sub/a.txt": "", "b.txt": "" });
    const m = await loadIgnoreMatcher(root);
    expect(m.ignores("sub/a.txt", false)).toBe(true);
    expect(m.ignores("b.txt", false)).toBe(false);
  });

  it("Given spec.ignore negating a .sourceignore pattern / should let spec.ignore win", async () => {
    const root = await tree({ ".sourceignore": "*.yaml\n" });
    const m = await loadIgnoreMatcher(root, "!keep.yaml\n");
    expect(m.ignores("drop.yaml", false)).toBe(true);
    expect(m.ignores("keep.yaml", false)).toBe(false);
  });

  it("Given comments and blank lines / should drop them", () => {
    expect(readPatterns("# c\n\n  \n*.md\r\n")).toEqual(["*.md"]);
    expect(matcherFrom([{ domain: "", patterns: [] }]).ignores("x", false)).toBe(false);
  });
});
