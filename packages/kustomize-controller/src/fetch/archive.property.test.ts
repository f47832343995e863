// Property tests of archive vetting and extraction: random sequences of directories, files, symlinks (relative and
// absolute targets, `..` chains, links to links) and hard links are extracted for real beside an "outside"
// directory. Whatever the sequence, nothing outside the root is created or modified, every symlink left inside
// resolves inside the root, and the verdicts are deterministic.
import { lstat, mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArchiveRefusedError, defaultExtractLimits, extractArchive } from "./archive.js";
import { type RawEntry, tgz } from "./testing/tar.js";
import { type ArchiveEntry, ArchiveVetter } from "./vet.js";

let work: string;
let outside: string;
beforeAll(async () => {
  work = await realpath(await mkdtemp(join(tmpdir(), "archive-prop-")));
  outside = join(work, "outside");
  await mkdir(outside);
  await writeFile(join(outside, "victim.txt"), "original\n");
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const component = fc.constantFrom("a", "b", "l", "x.yaml", "..", ".");
const relPath = fc.array(component, { minLength: 1, maxLength: 4 }).map((c) => c.join("/"));
const anyPath = fc.oneof(
  { weight: 8, arbitrary: relPath },
  { weight: 1, arbitrary: relPath.map((p) => `/${p}`) },
  { weight: 1, arbitrary: relPath.map((p) => `./${p}/`) },
);
const target = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 6, arbitrary: relPath },
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 6 }).map((n) => Array(n).fill("..").join("/")) },
    { weight: 1, arbitrary: fc.constant("/") },
    { weight: 1, arbitrary: fc.constant("OUTSIDE") },
  );

const entry: fc.Arbitrary<RawEntry> = fc.oneof(
  fc.record({ path: anyPath, type: fc.constant("Directory" as const) }),
  fc.record({ path: anyPath, type: fc.constant("File" as const), body: fc.constantFrom("a: 1\n", "pwned\n") }),
  fc.record({ path: anyPath, type: fc.constant("SymbolicLink" as const), linkpath: target() }),
  fc.record({ path: anyPath, type: fc.constant("Link" as const), linkpath: target() }),
);
const entries = fc.array(entry, { minLength: 1, maxLength: 12 });

function concrete(list: RawEntry[]): RawEntry[] {
  return list.map((e) => (e.linkpath === "OUTSIDE" ? { ...e, linkpath: join(outside, "victim.txt") } : e));
}

async function outsideIsUntouched(): Promise<void> {
  expect(await readdir(outside)).toEqual(["victim.txt"]);
  expect(await readFile(join(outside, "victim.txt"), "utf8")).toBe("original\n");
}

async function* walk(dir: string): AsyncGenerator<string> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    yield p;
    if (e.isDirectory()) yield* walk(p);
  }
}

const insideOf = (root: string, p: string) => {
  const rel = relative(root, p);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !rel.startsWith(sep));
};

let run = 0;
async function extractFresh(list: RawEntry[]): Promise<{ root: string; error: string | undefined }> {
  const dir = join(work, `run-${run++}`);
  await mkdir(dir);
  const file = join(dir, "a.tgz");
  await writeFile(file, tgz(list));
  const root = join(dir, "root");
  const error = await extractArchive(file, root, defaultExtractLimits).then(
    () => undefined,
    (e: unknown) => {
      // Only refusals: an I/O error here would be a bug in the vetting (a write the rules should have stopped).
      expect(e).toBeInstanceOf(ArchiveRefusedError);
      return (e as Error).message;
    },
  );
  return { root, error };
}

describe("archive extraction properties", () => {
  it("Given any sequence of entries, should create or modify nothing outside the root, and leave only symlinks that resolve inside it", async () => {
    await fc.assert(
      fc.asyncProperty(entries, async (raw) => {
        const list = concrete(raw);
        const { root, error } = await extractFresh(list);
        await outsideIsUntouched();
        expect((await readdir(work)).filter((n) => !n.startsWith("run-"))).toEqual(["outside"]);
        if (error === undefined) {
          const real = await realpath(root);
          for await (const p of walk(root)) {
            const st = await lstat(p);
            expect(st.isFile() || st.isDirectory() || st.isSymbolicLink()).toBe(true);
            if (st.isSymbolicLink()) expect(insideOf(real, await realpath(p))).toBe(true);
          }
        }
        // Deterministic: the same archive gets the same outcome.
        expect((await extractFresh(list)).error).toBe(error);
      }),
      { numRuns: 150 },
    );
  }, 180_000);

  it("Given any sequence of entries, the vetter should be deterministic and never accept an escaping path", () => {
    fc.assert(
      fc.property(entries, (raw) => {
        const list = concrete(raw) as ArchiveEntry[];
        const once = (v: ArchiveVetter) => list.map((e) => v.vet(e));
        const a = once(new ArchiveVetter());
        expect(once(new ArchiveVetter())).toEqual(a);
        for (const [i, v] of a.entries()) {
          if (!v.ok || v.kind === "root") continue;
          const path = list[i]?.path ?? "";
          expect(path.startsWith("/")).toBe(false);
          expect(path.split("/")).not.toContain("..");
          if (v.kind === "symlink") expect(v.target.startsWith("/")).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
