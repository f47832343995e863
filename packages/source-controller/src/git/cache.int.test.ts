// The object cache (cache.ts, cached-checkout.ts) against git http-backend on loopback: the same checkout as the
// plain path, one fetch shared by GitRepositories of one URL and credentials, never across credentials.
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { createTestRepo, type GitHttpServer, startGitHttpServer, type TestRepo } from "@capstan/gitserver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitError } from "../errors.js";
import { GitCache } from "./cache.js";
import { fetchSource, type GitSourceSpec, resolveSource } from "./source.js";

const user = "capstan";
const password = "cache-pa55-do-not-leak";
let root: string;
let scratch: string;
let server: GitHttpServer;
let repo: TestRepo;
let cache: GitCache;
let n = 0;
const outDir = () => join(scratch, `co-${n++}`);
const secret = (pw = password) => ({ username: Buffer.from(user), password: Buffer.from(pw) });
/** Conversations with the server (each ls-remote and each fetch opens one with GET info/refs). */
const uploads = () => server.requests.filter((r) => r.method === "GET" && r.path.includes("/info/refs")).length;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "capstan-cache-root-"));
  scratch = await mkdtemp(join(tmpdir(), "capstan-cache-out-"));
  server = await startGitHttpServer({ root, basicAuth: { username: user, password } });
  repo = await createTestRepo(root, "app.git", "main");
  await repo.commit({ "deploy/app.yaml": "v: 1\n", "README.md": "# app\n" }, { message: "first\n\nbody" });
  await repo.tag("v1.0.0", { message: "release 1.0.0" });
  await repo.commit({ "deploy/app.yaml": "v: 2\n", "docs/guide.md": "guide\n" }, { message: "second" });
  await repo.tag("v1.1.0");
  cache = new GitCache({ parent: join(scratch, "cache") });
}, 120_000);

afterAll(async () => {
  await cache?.dispose();
  await server?.close();
  await rm(root, { recursive: true, force: true });
  await rm(scratch, { recursive: true, force: true });
});

/** Every path under dir (without .git) with its content or link target. */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.name === ".git") continue;
      const p = join(d, e.name);
      const info = await lstat(p);
      if (info.isSymbolicLink()) out[relative(dir, p)] = `-> ${await readlink(p)}`;
      else if (info.isDirectory()) await walk(p);
      else out[relative(dir, p)] = `${(info.mode & 0o111) !== 0 ? "x " : ""}${await readFile(p, "utf8")}`;
    }
  };
  await walk(dir);
  return out;
}

// Each test runs several real fetches; on a loaded 2-core machine one fetch alone has taken 20 s.
describe("Given the object cache", { timeout: 240_000 }, () => {
  const spec = (ref: GitSourceSpec["ref"], pw?: string): GitSourceSpec => ({
    url: `${server.url}/app.git`,
    ref,
    secret: secret(pw),
    cache,
  });

  it.each<[string, GitSourceSpec["ref"]]>([
    ["a branch", { branch: "main" }],
    ["an annotated tag", { tag: "v1.0.0" }],
    ["a lightweight tag", { tag: "v1.1.0" }],
    ["a semver range", { semver: "^1.0.0" }],
  ])("%s / should check out what the plain path checks out, without .git", async (_what, ref) => {
    const plain: GitSourceSpec = { url: `${server.url}/app.git`, ref, secret: secret() };
    const a = await fetchSource(plain, outDir());
    const b = await fetchSource(spec(ref), outDir());
    expect({ ...b, dir: "" }).toEqual({ ...a, dir: "" });
    expect(await tree(b.dir)).toEqual(await tree(a.dir));
    expect(await readdir(b.dir)).not.toContain(".git");
  });

  it("symlinks and executable bits / should be checked out as git would", async () => {
    await repo.git(["config", "core.symlinks", "true"]);
    const { symlink, chmod, writeFile } = await import("node:fs/promises");
    await symlink("deploy/app.yaml", join(repo.work, "link.yaml"));
    await writeFile(join(repo.work, "run.sh"), "#!/bin/sh\n");
    await chmod(join(repo.work, "run.sh"), 0o755);
    await repo.git(["add", "link.yaml", "run.sh"]);
    await repo.commit({ "x.txt": "x\n" }, { message: "links" });
    const a = await fetchSource({ url: `${server.url}/app.git`, ref: { branch: "main" }, secret: secret() }, outDir());
    const b = await fetchSource(spec({ branch: "main" }), outDir());
    const t = await tree(b.dir);
    expect(t["link.yaml"]).toBe("-> deploy/app.yaml");
    expect(t["run.sh"]).toBe("x #!/bin/sh\n");
    expect(t).toEqual(await tree(a.dir));
  });

  it("many GitRepositories of one URL and commit / should share one fetch, and fetch again after a push", async () => {
    // Resolved first, so that only the fetches are counted.
    const resolved = await resolveSource(spec({ branch: "main" }));
    const first = await fetchSource(spec({ branch: "main" }), outDir(), resolved);
    const before = uploads();
    const again = await Promise.all(
      Array.from({ length: 6 }, () => fetchSource(spec({ branch: "main" }), outDir(), resolved)),
    );
    expect(again.map((c) => c.revision)).toEqual(Array(6).fill(first.revision));
    expect(uploads()).toBe(before);

    const pushed = await repo.commit({ "deploy/app.yaml": "v: 3\n" }, { message: "third" });
    const next = await resolveSource(spec({ branch: "main" }));
    // What one fetch costs on the wire (with basic auth: a 401, then the authorized request).
    const plainStart = uploads();
    await fetchSource({ url: `${server.url}/app.git`, ref: { branch: "main" }, secret: secret() }, outDir(), next);
    const oneFetch = uploads() - plainStart;
    expect(oneFetch).toBeGreaterThan(0);
    const listed = uploads();
    const after = await Promise.all(
      Array.from({ length: 3 }, () => fetchSource(spec({ branch: "main" }), outDir(), next)),
    );
    for (const c of after) {
      expect(c.commit).toBe(pushed);
      expect(c.subject).toBe("third");
      expect(await readFile(join(c.dir, "deploy", "app.yaml"), "utf8")).toBe("v: 3\n");
    }
    // Three GitRepositories, one fetch.
    expect(uploads()).toBe(listed + oneFetch);
  });

  it("other credentials for the same URL / should not reuse what the right ones fetched", async () => {
    const good = spec({ branch: "main" });
    const resolved = await resolveSource(good);
    await fetchSource(good, outDir(), resolved);
    const err = await fetchSource(spec({ branch: "main" }, "wrong-pw-x"), outDir(), resolved).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GitError);
    expect((err as GitError).reason).toBe("AuthenticationFailed");
    expect(JSON.stringify(err)).not.toContain(password);
    expect(String((err as Error).message)).not.toContain("wrong-pw-x");
    // The failed fetch dropped its repository; the good one still works.
    const ok = await fetchSource(good, outDir(), resolved);
    expect(ok.commit).toBe(resolved.commit);
  });
});
