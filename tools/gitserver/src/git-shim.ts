// A `git` in front of the real one that appends each invocation's arguments to a log, so tests and benchmarks can
// count the git processes a controller spawns (fetches, ls-remotes) without instrumenting the controller. The path
// of the log is written into the script: sessions give git a fresh environment, so an env var would not reach it.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";

export interface GitShim {
  /** Directory to put first on the controller's PATH. */
  binDir: string;
  /** Every invocation so far, as its argument list. */
  invocations(): Promise<string[][]>;
  /** How many invocations ran this git subcommand ("fetch", "ls-remote", ...). */
  count(subcommand: string): Promise<number>;
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Writes the shim into `dir` (which must exist) in front of the git found on PATH now. */
export async function createGitShim(dir: string): Promise<GitShim> {
  const real = (await execa("sh", ["-c", "command -v git"])).stdout.trim();
  if (!real) throw new Error("git shim: no git on PATH");
  const log = join(dir, "git-invocations.log");
  await writeFile(log, "");
  // One line per process, written with one append so parallel gits do not interleave; arguments are separated by
  // the ASCII unit separator because they may hold spaces.
  const script = `#!/bin/sh
line=$(printf '%s\\037' "$@")
printf '%s\\n' "$line" >> ${shq(log)}
exec ${shq(real)} "$@"
`;
  await writeFile(join(dir, "git"), script, { mode: 0o755 });
  const invocations = async () =>
    (await readFile(log, "utf8"))
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line) => line.split("\x1f").slice(0, -1));
  return {
    binDir: dir,
    invocations,
    count: async (subcommand) => (await invocations()).filter((args) => args[0] === subcommand).length,
  };
}
