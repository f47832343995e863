// The standing hostile-tarball suite: every attack seen against artifact extraction stays here as a test. Each one
// is extracted for real into a temp root beside an "outside" directory holding a victim file, and must be refused
// with a message naming the rule, leaving the outside untouched.

import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReconcileError } from "@capstan/runtime";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ArchiveRefusedError, defaultExtractLimits, type ExtractLimits, extractArchive } from "./archive.js";
import { gzipOfZeros, type RawEntry, tar, tgz } from "./testing/tar.js";

let work: string;
let root: string;
let outside: string;

beforeEach(async () => {
  work = await realpath(await mkdtemp(join(tmpdir(), "archive-test-")));
  root = join(work, "root");
  outside = join(work, "outside");
  await mkdir(outside);
  await writeFile(join(outside, "victim.txt"), "original\n");
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function extract(archive: Buffer, limits?: Partial<ExtractLimits>): Promise<unknown> {
  const file = join(work, "artifact.tgz");
  await writeFile(file, archive);
  return extractArchive(file, root, { ...defaultExtractLimits, ...limits }).then(
    () => undefined,
    (e: unknown) => e,
  );
}

async function outsideIsUntouched(): Promise<void> {
  expect((await readdir(work)).sort()).toEqual(["artifact.tgz", "outside", "root"]);
  expect(await readdir(outside)).toEqual(["victim.txt"]);
  expect(await readFile(join(outside, "victim.txt"), "utf8")).toBe("original\n");
}

/** `a/l0 -> ..`, `a/lN -> l(N-1)/..`: each lexically inside, yet a/l1 already resolves to the root's parent. */
function chain(n: number): RawEntry[] {
  const out: RawEntry[] = [{ path: "a/", type: "Directory" }];
  for (let i = 0; i < n; i++)
    out.push({ path: `a/l${i}`, type: "SymbolicLink", linkpath: i === 0 ? ".." : `l${i - 1}/..` });
  return out;
}

describe("extractArchive, hostile archives", () => {
  const hostile: [string, () => RawEntry[], RegExp][] = [
    ["a `../` traversal", () => [{ path: "../outside/victim.txt", body: "pwned" }], /escapes the archive root/],
    ["a traversal hidden mid-path", () => [{ path: "a/../../outside/victim.txt", body: "pwned" }], /escapes/],
    ["an absolute path", () => [{ path: join(outside, "victim.txt"), body: "pwned" }], /escapes/],
    ["a hard link out", () => [{ path: "h", type: "Link", linkpath: "../outside/victim.txt" }], /hard link 'h'/],
    ["an absolute hard link", () => [{ path: "h", type: "Link", linkpath: join(outside, "victim.txt") }], /hard link/],
    [
      "a hard link to nothing extracted",
      () => [{ path: "h", type: "Link", linkpath: "later" }],
      /not a file extracted/,
    ],
    ["a character device", () => [{ path: "tty", type: "CharacterDevice" }], /unsupported type CharacterDevice/],
    ["a block device", () => [{ path: "sda", type: "BlockDevice" }], /unsupported type BlockDevice/],
    ["a fifo", () => [{ path: "pipe", type: "FIFO" }], /unsupported type FIFO/],
    ["an absolute symlink", () => [{ path: "l", type: "SymbolicLink", linkpath: outside }], /points outside.*absolute/],
    ["a symlink climbing out", () => [{ path: "a/l", type: "SymbolicLink", linkpath: "../../outside" }], /outside/],
    [
      "chained symlinks (a/l14 resolves to the root's ancestors)",
      () => chain(15),
      /symlink 'a\/l1' -> 'l0\/\.\.' resolves outside/,
    ],
    [
      "chained symlinks then a write through them",
      () => [...chain(2), { path: "a/l1/outside/victim.txt", body: "pwned" }],
      /'a\/l1\/outside\/victim\.txt' lies under the symlink 'a\/l1'/,
    ],
    [
      "a symlink then a file written through it",
      () => [
        { path: "d", type: "SymbolicLink", linkpath: "." },
        { path: "d/x.yaml", body: "a: 1\n" },
      ],
      /lies under the symlink 'd'/,
    ],
    [
      "a file replacing a symlink",
      () => [
        { path: "x.yaml", body: "a: 1\n" },
        { path: "l", type: "SymbolicLink", linkpath: "x.yaml" },
        { path: "l", body: "b" },
      ],
      /file 'l' replaces the symlink 'l'/,
    ],
    [
      "a symlink replacing a directory already written into",
      () => [
        { path: "a/x.yaml", body: "a: 1\n" },
        { path: "a", type: "SymbolicLink", linkpath: "../outside" },
      ],
      /symlink 'a' replaces the dir 'a'/,
    ],
    [
      "a file written twice",
      () => [
        { path: "x.yaml", body: "a: 1\n" },
        { path: "./x.yaml", body: "b: 2\n" },
      ],
      /file 'x\.yaml' replaces the file/,
    ],
    [
      "a file under a file",
      () => [
        { path: "f", body: "x" },
        { path: "f/x", body: "y" },
      ],
      /lies under the file 'f'/,
    ],
    ["a dangling symlink", () => [{ path: "l", type: "SymbolicLink", linkpath: "nowhere/x" }], /points to nothing/],
    [
      "a symlink loop",
      () => [
        { path: "l1", type: "SymbolicLink", linkpath: "l2" },
        { path: "l2", type: "SymbolicLink", linkpath: "l1" },
      ],
      /symlink loop/,
    ],
  ];

  it.each(hostile)("Given %s, should refuse the archive and touch nothing outside", async (_name, entries, error) => {
    const err = await extract(tgz(entries()));
    expect(err).toBeInstanceOf(ArchiveRefusedError);
    expect((err as Error).message).toMatch(error);
    await outsideIsUntouched();
  });

  it("Given a header declaring a 2 GiB file with a tiny body, should refuse it at the header, naming the cap and flag", async () => {
    const err = await extract(tgz([{ path: "big.yaml", size: 2 * 1024 ** 3, body: "x".repeat(1000) }]));
    expect(err).toBeInstanceOf(ArchiveRefusedError);
    expect((err as Error).message).toBe(
      "refusing artifact archive: file 'big.yaml' is 2147483648 bytes, over the cap of 32 MiB (33554432 bytes); " +
        "raise it with --artifact-max-file-size",
    );
    expect(await readdir(root)).toEqual([]);
  });

  it("Given files summing past the content cap, should stop at the cap, naming it and its flag", async () => {
    const mib = Buffer.alloc(1024 * 1024);
    const entries = Array.from({ length: 10 }, (_, i) => ({ path: `f${i}.yaml`, body: mib }));
    const err = await extract(tgz(entries), { maxBytes: 4 * 1024 * 1024 });
    expect((err as Error).message).toMatch(
      /content exceeds the cap of 4 MiB \(4194304 bytes\); raise it with --artifact-max-extracted-size \(at 'f4\.yaml'\)/,
    );
    expect((await readdir(root)).length).toBe(4);
  });

  it("Given hard links multiplying one file, should count every copy against the content cap", async () => {
    const entries: RawEntry[] = [{ path: "f.yaml", body: Buffer.alloc(1024 * 1024) }];
    for (let i = 0; i < 10; i++) entries.push({ path: `h${i}`, type: "Link", linkpath: "f.yaml" });
    const err = await extract(tgz(entries), { maxBytes: 4 * 1024 * 1024 });
    expect((err as Error).message).toMatch(/content exceeds the cap of 4 MiB.*\(at 'h3'\)/);
  });

  it("Given an entry-count flood, should stop at the cap, naming it and its flag", async () => {
    const entries = Array.from({ length: 1500 }, (_, i) => ({ path: `d${i}/`, type: "Directory" as const }));
    const err = await extract(tgz(entries), { maxEntries: 1000 });
    expect((err as Error).message).toBe(
      "refusing artifact archive: it holds more than 1000 entries, the cap of 1000; raise it with --artifact-max-entries",
    );
    expect((await readdir(root)).length).toBe(1000);
  });

  it("Given a flood of pax headers (no entries, no content), should stop at the decompressed-size cap", async () => {
    const text = ` comment=${"x".repeat(512 * 1024)}\n`;
    const digits = String(text.length + 7).length;
    const record = `${text.length + digits}${text}`;
    const flood = Array.from({ length: 25 }, () => ({
      path: "g",
      type: "GlobalExtendedHeader" as const,
      body: record,
    }));
    const err = await extract(tgz(flood), { maxBytes: 10 * 1024 * 1024, maxEntries: 10 });
    expect((err as Error).message).toMatch(
      /decompresses to more than 10276 KiB, beyond the content cap of 10 MiB plus tar framing \(raise it with --artifact-max-extracted-size\)/,
    );
  });

  it("Given a gzip bomb (1 GiB of zeros behind a file header), should refuse it without inflating it", async () => {
    const header = tar([{ path: "zeros.yaml", size: 1024 ** 3 }]).subarray(0, 512);
    const err = await extract(await gzipOfZeros(64 * 1024 * 1024, header));
    expect((err as Error).message).toMatch(/file 'zeros\.yaml' is 1073741824 bytes, over the cap of 32 MiB/);
  });

  it("Given a truncated archive, should refuse it", async () => {
    const err = await extract(tgz([{ path: "x.yaml", body: "a: 1\n" }]).subarray(0, 20));
    expect(err).toMatchObject({ reason: "ArtifactFailed" });
    expect(err).toBeInstanceOf(ReconcileError);
  });

  it("Given garbage that is no tar, should refuse it", async () => {
    const err = await extract(Buffer.from("A".repeat(4096)));
    expect((err as Error).message).toMatch(/invalid tar header/);
  });
});

describe("extractArchive, well-formed archives", () => {
  it("Given files, directories, in-root symlinks (chained too) and a hard link, should extract them all", async () => {
    const err = await extract(
      tgz([
        { path: "./", type: "Directory" },
        { path: "./apps/", type: "Directory" },
        { path: "./apps/cm.yaml", body: "kind: ConfigMap\n" },
        { path: "./base/deep/x.yaml", body: "x: 1\n" },
        { path: "./apps/link.yaml", type: "SymbolicLink", linkpath: "cm.yaml" },
        { path: "./apps/up", type: "SymbolicLink", linkpath: "../base/deep" },
        { path: "./apps/up2", type: "SymbolicLink", linkpath: "up/.." },
        { path: "./copy.yaml", type: "Link", linkpath: "apps/cm.yaml" },
      ]),
    );
    expect(err).toBeUndefined();
    expect(await readFile(join(root, "apps/link.yaml"), "utf8")).toBe("kind: ConfigMap\n");
    expect(await readFile(join(root, "apps/up/x.yaml"), "utf8")).toBe("x: 1\n");
    expect(await readFile(join(root, "apps/up2/deep/x.yaml"), "utf8")).toBe("x: 1\n");
    expect(await readlink(join(root, "apps/up2"))).toBe("up/..");
    expect(await readFile(join(root, "copy.yaml"), "utf8")).toBe("kind: ConfigMap\n");
    expect((await lstat(join(root, "copy.yaml"))).nlink).toBe(1);
  });

  it("Given an archive at exactly the entry cap, should extract it", async () => {
    const entries = Array.from({ length: 100 }, (_, i) => ({ path: `f${i}.yaml`, body: `i: ${i}\n` }));
    expect(await extract(tgz(entries), { maxEntries: 100 })).toBeUndefined();
    expect((await readdir(root)).length).toBe(100);
  });

  it("Given a plain (uncompressed) tar, should extract it", async () => {
    expect(await extract(tar([{ path: "x.yaml", body: "a: 1\n" }]))).toBeUndefined();
    expect(await readFile(join(root, "x.yaml"), "utf8")).toBe("a: 1\n");
  });
});
