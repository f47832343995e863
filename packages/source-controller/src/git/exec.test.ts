import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitError } from "../errors.js";
import { runGit } from "./exec.js";
import type { GitSession } from "./session.js";

// runGit with real processes: `gitBinary` points at sh for the cases git itself cannot be made to produce.
let dir: string;
const session = (secrets: string[] = []): GitSession => ({
  env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir },
  secrets,
  dispose: async () => undefined,
});
// Running or sleeping; a killed process whose new parent has not reaped it yet shows as a zombie (Z).
const alive = async (pid: number) => {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return state !== "" && state !== "Z" && state !== "X";
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "capstan-exec-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("runGit", () => {
  it("Given git --version / should return its stdout untouched (final newline kept)", async () => {
    const out = await runGit(session(), ["--version"]);
    expect(out).toMatch(/^git version \S+\n$/);
  });

  it("Given a failing git command / should throw a GitError with git's own words, secrets scrubbed", async () => {
    const err = await runGit(session(["s3cret"]), ["ls-remote", "--", join(dir, "s3cret-missing")], {
      operation: "git ls-remote",
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitError);
    expect((err as GitError).message).toMatch(/^git ls-remote: .*does not appear to be a git repository/);
    expect((err as GitError).message).not.toContain("s3cret");
  });

  it("Given no git binary / should say so", async () => {
    const err = await runGit(session(), ["--version"], { gitBinary: join(dir, "no-such-git") }).catch((e) => e);
    expect((err as GitError).message).toContain("git binary not found on PATH");
  });

  it("Given a process that outlives its timeout / should kill its whole process group and report the timeout", async () => {
    const pidFile = join(dir, "grandchild.pid");
    // The child starts a grandchild that holds the pipes open, as git-remote-https does.
    const script = `sleep 30 & echo $! > ${pidFile}; wait`;
    const err = await runGit(session(), ["-c", script], { gitBinary: "sh", timeoutMs: 500 }).catch((e) => e);
    expect((err as GitError).kind).toBe("timeout");
    const grandchild = Number(await readFile(pidFile, "utf8"));
    await new Promise((r) => setTimeout(r, 100));
    expect(await alive(grandchild)).toBe(false);
  });

  it("Given an abort signal / should kill the process and report the cancel", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const started = Date.now();
    const err = await runGit(session(), ["-c", "sleep 30"], { gitBinary: "sh", signal: controller.signal }).catch(
      (e) => e,
    );
    expect((err as GitError).message).toContain("canceled");
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it("Given more output than the bound / should fail instead of buffering it all", async () => {
    const err = await runGit(session(), ["-c", "head -c 70000000 /dev/zero"], { gitBinary: "sh" }).catch((e) => e);
    expect(err).toBeInstanceOf(GitError);
    expect((err as GitError).message).toContain("more than 67108864 bytes");
  });
});
