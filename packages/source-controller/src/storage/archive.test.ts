import { chmod, mkdir, readFile, symlink, utimes, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { list } from "tar";
import { describe, expect, it } from "vitest";
import { BuildError } from "../errors.js";
import { useTempDirs } from "../testing/temp-dirs.js";
import { archiveDirectory, collectEntries } from "./archive.js";

const tmp = useTempDirs("archive");

async function write(root: string, files: Record<string, string>, order = Object.keys(files)): Promise<void> {
  for (const path of order) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), files[path] ?? "");
  }
}

async function entriesOf(file: string) {
  const out: { path: string; mode: number; mtime: number; uid: number; gid: number; uname: string; gname: string }[] =
    [];
  await list({
    file,
    onReadEntry: (e) =>
      out.push({
        path: e.path,
        mode: e.mode ?? -1,
        mtime: e.mtime?.getTime() ?? -1,
        uid: e.uid ?? -1,
        gid: e.gid ?? -1,
        uname: e.uname ?? "",
        gname: e.gname ?? "",
      }),
  });
  return out;
}

const files = { "b/x.yaml": "x: 1\n", "a.yaml": "a: 1\n", "run.sh": "#!/bin/sh\n", "b/c/y.yaml": "y: 2\n" };

describe("archiveDirectory", () => {
  it("Given the same tree written in different orders with different mtimes and umask / should give the same digest", async () => {
    const one = await tmp();
    const two = await tmp();
    await write(one, files);
    const old = process.umask(0o077);
    try {
      await write(two, files, Object.keys(files).reverse());
    } finally {
      process.umask(old);
    }
    await chmod(join(one, "run.sh"), 0o755);
    await chmod(join(two, "run.sh"), 0o700);
    await utimes(join(two, "a.yaml"), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const out = await tmp();
    const r1 = await archiveDirectory(one, join(out, "1.tar.gz"));
    const r2 = await archiveDirectory(two, join(out, "2.tar.gz"));
    expect(r1.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r2.digest).toBe(r1.digest);
    expect(r2.size).toBe(r1.size);
    expect(await readFile(join(out, "1.tar.gz"))).toEqual(await readFile(join(out, "2.tar.gz")));
  });

  it("Given a tree / should write sorted entries with zeroed owners and mtimes and normalized modes", async () => {
    const root = await tmp();
    await write(root, files);
    await chmod(join(root, "run.sh"), 0o700);
    await chmod(join(root, "a.yaml"), 0o600);
    const out = join(await tmp(), "a.tar.gz");
    await archiveDirectory(root, out);
    const entries = await entriesOf(out);
    expect(entries.map((e) => e.path)).toEqual(["a.yaml", "b/", "b/c/", "b/c/y.yaml", "b/x.yaml", "run.sh"]);
    for (const e of entries) {
      expect(e).toMatchObject({ mtime: 0, uid: 0, gid: 0, uname: "", gname: "" });
    }
    const mode = Object.fromEntries(entries.map((e) => [e.path, e.mode & 0o777]));
    expect(mode).toEqual({
      "a.yaml": 0o644,
      "b/": 0o755,
      "b/c/": 0o755,
      "b/c/y.yaml": 0o644,
      "b/x.yaml": 0o644,
      "run.sh": 0o755,
    });
  });

  it("Given .git and excluded paths / should leave them out", async () => {
    const root = await tmp();
    await write(root, { ".git/HEAD": "ref", "keep.yaml": "", "drop/me.yaml": "" });
    const entries = await collectEntries(root, { exclude: (p) => p === "drop" });
    expect(entries.map((e) => e.rel)).toEqual(["keep.yaml"]);
  });

  it("Given a symlink inside the tree / should drop it", async () => {
    const root = await tmp();
    await write(root, { "real.yaml": "r" });
    await symlink("real.yaml", join(root, "link.yaml"));
    expect((await collectEntries(root)).map((e) => e.rel)).toEqual(["real.yaml"]);
  });

  it("Given a symlink pointing outside the tree / should fail with a BuildError", async () => {
    const root = await tmp();
    await symlink("/etc/passwd", join(root, "escape"));
    await expect(collectEntries(root)).rejects.toBeInstanceOf(BuildError);
    await symlink("../..", join(root, "up"));
    await expect(collectEntries(root)).rejects.toThrow(/points outside/);
  });

  it("Given a size limit below the artifact size / should fail and leave no file behind", async () => {
    const root = await tmp();
    await write(root, { "big.txt": "x".repeat(1024) + Math.random().toString(36).repeat(2000) });
    const out = await tmp();
    await expect(archiveDirectory(root, join(out, "a.tar.gz"), { maxSize: 100 })).rejects.toThrow(/size limit/);
    const { readdir } = await import("node:fs/promises");
    expect(await readdir(out)).toEqual([]);
  });

  it("Given many small files and one larger than a MiB / should archive every byte of each, in order", async () => {
    const root = await tmp();
    const content: Record<string, string> = { "big/blob.bin": `${"0123456789abcdef".repeat(100_000)}end` };
    for (let i = 0; i < 300; i++) content[`small/f-${String(i).padStart(3, "0")}.yaml`] = `i: ${i}\n`.repeat(i + 1);
    await write(root, content);
    const out = await tmp();
    await archiveDirectory(root, join(out, "a.tar.gz"));
    const extracted = await tmp();
    const { x } = await import("tar");
    await x({ file: join(out, "a.tar.gz"), cwd: extracted });
    for (const [path, text] of Object.entries(content)) {
      expect(await readFile(join(extracted, path), "utf8")).toBe(text);
    }
    const names = (await entriesOf(join(out, "a.tar.gz"))).map((e) => e.path);
    expect(names).toEqual([...names].sort());
  });
});
