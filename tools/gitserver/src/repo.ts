// Git repositories for tests: a bare repository (what the servers serve) plus a work tree to make commits, branches,
// tags and signed objects in, pushed to the bare repository with plain git.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execa } from "execa";
import type { PgpKey, SshKeyPair } from "./keys.js";

export type Signer = { pgp: PgpKey } | { ssh: SshKeyPair };

export interface TestRepo {
  /** Path of the bare repository. */
  bare: string;
  /** Name under the server root, e.g. "app.git". */
  name: string;
  work: string;
  /** Writes files (null deletes), commits on the current branch and pushes it; returns the commit hash. */
  commit(files: Record<string, string | null>, options?: { message?: string; sign?: Signer }): Promise<string>;
  /** Creates (and pushes) a tag at HEAD; annotated when a message or signer is given. */
  tag(name: string, options?: { message?: string; sign?: Signer }): Promise<string>;
  /** Switches to a new or existing branch (created from HEAD). */
  branch(name: string): Promise<void>;
  /** Pushes HEAD to an arbitrary ref, e.g. "refs/pull/1/head". */
  pushRef(ref: string): Promise<void>;
  git(args: string[], env?: Record<string, string>): Promise<string>;
}

const baseEnv = {
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_NAME: "Capstan Test",
  GIT_AUTHOR_EMAIL: "test@capstan.dev",
  GIT_COMMITTER_NAME: "Capstan Test",
  GIT_COMMITTER_EMAIL: "test@capstan.dev",
};

function signingArgs(sign: Signer | undefined): { args: string[]; env: Record<string, string> } {
  if (!sign) return { args: [], env: {} };
  if ("pgp" in sign) {
    return {
      args: ["-c", `user.signingkey=${sign.pgp.fingerprint}`, "-c", "gpg.format=openpgp"],
      env: { GNUPGHOME: sign.pgp.gnupgHome },
    };
  }
  return { args: ["-c", "gpg.format=ssh", "-c", `user.signingkey=${sign.ssh.privateKeyPath}`], env: {} };
}

/** Creates an empty bare repository `name` under `root` (a server's root), with a work tree elsewhere. */
export async function createTestRepo(root: string, name = "repo.git", initialBranch = "main"): Promise<TestRepo> {
  const bare = join(root, name);
  await mkdir(dirname(bare), { recursive: true });
  const work = await mkdtemp(join(tmpdir(), "capstan-work-"));
  const run = async (cwd: string, args: string[], env: Record<string, string> = {}) =>
    (await execa("git", args, { cwd, env: { ...baseEnv, ...env }, stdin: "ignore" })).stdout;
  await run(root, ["init", "-q", "--bare", `--initial-branch=${initialBranch}`, bare]);
  await run(bare, ["config", "http.receivepack", "true"]);
  await run(bare, ["config", "uploadpack.allowAnySHA1InWant", "true"]);
  await run(work, ["init", "-q", `--initial-branch=${initialBranch}`]);
  await run(work, ["remote", "add", "origin", bare]);
  const repo: TestRepo = {
    bare,
    name,
    work,
    async commit(files, options = {}) {
      for (const [path, content] of Object.entries(files)) {
        const abs = join(work, path);
        if (content === null) await rm(abs, { force: true, recursive: true });
        else {
          await mkdir(dirname(abs), { recursive: true });
          await writeFile(abs, content);
        }
      }
      await run(work, ["add", "-A"]);
      const s = signingArgs(options.sign);
      await run(
        work,
        [
          ...s.args,
          "commit",
          "-q",
          "--allow-empty",
          ...(options.sign ? ["-S"] : []),
          "-m",
          options.message ?? "commit",
        ],
        s.env,
      );
      await run(work, ["push", "-q", "origin", "HEAD"]);
      return (await run(work, ["rev-parse", "HEAD"])).trim();
    },
    async tag(tagName, options = {}) {
      const s = signingArgs(options.sign);
      const annotated = options.sign || options.message;
      const args = annotated
        ? [...s.args, "tag", ...(options.sign ? ["-s"] : ["-a"]), "-m", options.message ?? tagName, tagName]
        : ["tag", tagName];
      await run(work, args, s.env);
      await run(work, ["push", "-q", "origin", `refs/tags/${tagName}`]);
      return (await run(work, ["rev-parse", tagName])).trim();
    },
    async branch(branchName) {
      await run(work, ["checkout", "-q", "-B", branchName]);
    },
    async pushRef(ref) {
      await run(work, ["push", "-q", "origin", `HEAD:${ref}`]);
    },
    git: (args, env) => run(work, args, env),
  };
  return repo;
}

export async function disposeTestRepo(repo: TestRepo): Promise<void> {
  await rm(repo.work, { recursive: true, force: true });
  await rm(repo.bare, { recursive: true, force: true });
}
