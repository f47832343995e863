// Resolution and checkout against real git servers on loopback: git http-backend over HTTP (basic auth), HTTPS
// (bearer token, test CA, mTLS) and OpenSSH.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createKeyStore,
  createTestPki,
  createTestRepo,
  freePort,
  type GitHttpServer,
  type KeyStore,
  type SshKeyPair,
  type SshServer,
  sshdAvailable,
  startGitHttpServer,
  startSshServer,
  type TestPki,
  type TestRepo,
} from "@capstan/gitserver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitError } from "../errors.js";
import type { SecretData } from "./auth.js";
import { fetchSource, type GitSourceSpec, resolveSource } from "./source.js";

const user = "capstan";
const password = "pa55-w0rd-do-not-leak";
const token = "t0ken-do-not-leak";
const b = (s: string | Buffer) => Buffer.from(s);

let root: string;
let scratch: string;
let pki: TestPki;
let keys: KeyStore;
let sshKey: SshKeyPair;
let sshKeyWithPass: SshKeyPair;
let basic: GitHttpServer;
let open: GitHttpServer;
let bearer: GitHttpServer;
let mtls: GitHttpServer;
let sshd: SshServer | undefined;
let repo: TestRepo;
let emptyRepo: TestRepo | undefined;
let commits: Record<string, string>;
const errors: string[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "capstan-git-root-"));
  scratch = await mkdtemp(join(tmpdir(), "capstan-git-out-"));
  pki = await createTestPki();
  keys = await createKeyStore();
  sshKey = await keys.sshKey();
  sshKeyWithPass = await keys.sshKey({ passphrase: "key-pass-do-not-leak" });
  basic = await startGitHttpServer({ root, basicAuth: { username: user, password } });
  open = await startGitHttpServer({ root });
  bearer = await startGitHttpServer({ root, bearerToken: token, tls: { cert: pki.serverCert, key: pki.serverKey } });
  mtls = await startGitHttpServer({
    root,
    tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert, requireClientCert: true },
  });
  // Only the SSH tests need sshd: without it they skip and every HTTP(S) test still runs.
  if (sshdAvailable()) sshd = await startSshServer([sshKey.publicKey, sshKeyWithPass.publicKey]);

  repo = await createTestRepo(root, "app.git", "main");
  commits = {};
  commits.first = await repo.commit({ "deploy/app.yaml": "v: 1\n", "README.md": "# app\n" });
  await repo.tag("v1.0.0", { message: "release 1.0.0" });
  commits.second = await repo.commit({ "deploy/app.yaml": "v: 2\n", "docs/guide.md": "guide\n" });
  await repo.tag("v1.1.0");
  await repo.tag("v2.0.0-rc.1");
  await repo.branch("dev");
  commits.dev = await repo.commit({ "deploy/app.yaml": "v: dev\n" });
  await repo.pushRef("refs/pull/1/head");
  await repo.branch("main");
  emptyRepo = await createTestRepo(root, "empty.git", "main");
}, 120_000);

afterAll(async () => {
  await Promise.all([basic?.close(), open?.close(), bearer?.close(), mtls?.close(), sshd?.close()]);
  await keys?.dispose();
  await rm(root, { recursive: true, force: true });
  await rm(scratch, { recursive: true, force: true });
  await rm(repo?.work ?? "/nonexistent", { recursive: true, force: true });
  await rm(emptyRepo?.work ?? "/nonexistent", { recursive: true, force: true });
});

const basicSecret = (): SecretData => ({ username: b(user), password: b(password) });
let n = 0;
const outDir = () => join(scratch, `co-${n++}`);

async function failure(p: Promise<unknown>): Promise<GitError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GitError);
  const gitErr = err as GitError;
  errors.push(gitErr.message, String((gitErr.cause as Error | undefined)?.message ?? ""), JSON.stringify(gitErr));
  return gitErr;
}

describe("Given basic auth over HTTP", () => {
  const spec = (ref: GitSourceSpec["ref"]): GitSourceSpec => ({
    url: `${basic.url}/app.git`,
    ref,
    secret: basicSecret(),
  });

  it.each<[string, GitSourceSpec["ref"], () => string, string]>([
    ["branch", { branch: "main" }, () => `main@sha1:${commits.second}`, "v: 2\n"],
    ["default branch master is absent", undefined, () => "", ""],
    ["tag (annotated)", { tag: "v1.0.0" }, () => `v1.0.0@sha1:${commits.first}`, "v: 1\n"],
    ["tag (lightweight)", { tag: "v1.1.0" }, () => `v1.1.0@sha1:${commits.second}`, "v: 2\n"],
    ["semver", { semver: "^1.0.0" }, () => `v1.1.0@sha1:${commits.second}`, "v: 2\n"],
    ["name", { name: "refs/pull/1/head" }, () => `refs/pull/1/head@sha1:${commits.dev}`, "v: dev\n"],
    ["commit", { commit: "" }, () => `sha1:${commits.first}`, "v: 1\n"],
    ["commit in branch", { commit: "", branch: "dev" }, () => `dev@sha1:${commits.first}`, "v: 1\n"],
  ])("%s / should resolve and check out Flux's revision", async (what, ref, revision, content) => {
    const r = ref && "commit" in ref ? { ...ref, commit: commits.first ?? "" } : ref;
    if (what.startsWith("default")) {
      const err = await failure(resolveSource(spec(r)));
      expect(err.kind).toBe("notFound");
      expect(err.message).toContain("branch 'master'");
      return;
    }
    const resolved = await resolveSource(spec(r));
    expect(resolved.revision).toBe(revision());
    const dir = outDir();
    const checkout = await fetchSource(spec(r), dir, resolved);
    expect(checkout.revision).toBe(revision());
    expect(await readFile(join(dir, "deploy", "app.yaml"), "utf8")).toBe(content);
  });

  it("a shallow fetch / should bring exactly one commit", async () => {
    const dir = outDir();
    await fetchSource(spec({ branch: "main" }), dir);
    const { execa } = await import("execa");
    const count = await execa("git", ["rev-list", "--count", "HEAD"], { cwd: dir });
    expect(count.stdout.trim()).toBe("1");
  });

  it("an annotated tag / should expose the tag object for verification", async () => {
    const checkout = await fetchSource(spec({ tag: "v1.0.0" }), outDir());
    expect(checkout.tagObject).toMatch(/^[0-9a-f]{40}$/);
    expect(checkout.tagObject).not.toBe(commits.first);
  });

  it("a commit not in the given branch / should fail with notFound", async () => {
    const err = await failure(fetchSource(spec({ commit: commits.dev ?? "", branch: "main" }), outDir()));
    expect(err.kind).toBe("notFound");
    expect(err.message).toContain("is not in branch 'main'");
  });

  it("sparse checkout / should check out only the listed directories", async () => {
    const dir = outDir();
    await fetchSource({ ...spec({ branch: "main" }), sparseCheckout: ["docs"] }, dir);
    expect((await readdir(dir)).filter((f) => f !== ".git")).toEqual(["docs"]);
  });

  it("a wrong password / should fail with AuthenticationFailed and not leak it", async () => {
    const err = await failure(
      resolveSource({ ...spec({ branch: "main" }), secret: { username: b(user), password: b("wrong-pass-x") } }),
    );
    expect(err.reason).toBe("AuthenticationFailed");
    expect(err.message).toMatch(/check the credentials/);
    expect(err.message).not.toContain("wrong-pass-x");
  });

  it("no credentials / should fail with AuthenticationFailed", async () => {
    const err = await failure(resolveSource({ url: `${basic.url}/app.git` }));
    expect(err.reason).toBe("AuthenticationFailed");
  });

  it("a missing branch / should fail with notFound and GitOperationFailed", async () => {
    const err = await failure(resolveSource(spec({ branch: "nope" })));
    expect(err).toMatchObject({ kind: "notFound", reason: "GitOperationFailed" });
  });

  it("a missing repository / should fail with notFound", async () => {
    const err = await failure(resolveSource({ ...spec({ branch: "main" }), url: `${basic.url}/nope.git` }));
    expect(err.kind).toBe("notFound");
  });

  it("an empty repository / should say so", async () => {
    const err = await failure(resolveSource({ ...spec({ branch: "main" }), url: `${basic.url}/empty.git` }));
    expect(err.kind).toBe("emptyRepository");
    expect(err.message).toMatch(/empty/);
  });
});

describe("Given an unreachable or silent host", () => {
  let silent: Server | undefined;
  const sockets = new Set<Socket>();
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((ok) => (silent ? silent.close(() => ok()) : ok()));
  });

  it("a closed port / should fail as unreachable", async () => {
    const port = await freePort();
    const err = await failure(resolveSource({ url: `http://127.0.0.1:${port}/app.git` }));
    expect(err.kind).toBe("unreachable");
  });

  it("a server that never answers / should time out after spec.timeout", async () => {
    const server = createServer((socket) => sockets.add(socket));
    silent = server;
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const port = (server.address() as { port: number }).port;
    const err = await failure(resolveSource({ url: `http://127.0.0.1:${port}/app.git`, timeoutMs: 1_000 }));
    expect(err.kind).toBe("timeout");
    expect(err.message).toMatch(/timed out/);
  });
});

describe("Given HTTPS", () => {
  it("a bearer token and the CA / should fetch", async () => {
    const dir = outDir();
    const checkout = await fetchSource(
      {
        url: `${bearer.url}/app.git`,
        ref: { branch: "main" },
        secret: { bearerToken: b(token), "ca.crt": pki.caCert },
      },
      dir,
    );
    expect(checkout.revision).toBe(`main@sha1:${commits.second}`);
    expect(bearer.requests.every((r) => r.authorized)).toBe(true);
  });

  it("a wrong bearer token / should fail with AuthenticationFailed", async () => {
    const err = await failure(
      resolveSource({ url: `${bearer.url}/app.git`, secret: { bearerToken: b("bad-token-x"), "ca.crt": pki.caCert } }),
    );
    expect(err.reason).toBe("AuthenticationFailed");
    expect(err.message).not.toContain("bad-token-x");
  });

  it("no CA for the server's certificate / should fail as unreachable with a TLS hint", async () => {
    const err = await failure(resolveSource({ url: `${bearer.url}/app.git`, secret: { bearerToken: b(token) } }));
    expect(err.kind).toBe("unreachable");
    expect(err.message).toMatch(/certificate/i);
  });

  it("mTLS with a client certificate / should fetch, and without one should be refused", async () => {
    const tls = { "ca.crt": pki.caCert, "tls.crt": pki.clientCert, "tls.key": pki.clientKey };
    const resolved = await resolveSource({ url: `${mtls.url}/app.git`, ref: { tag: "v1.0.0" }, secret: tls });
    expect(resolved.revision).toBe(`v1.0.0@sha1:${commits.first}`);
    const err = await failure(resolveSource({ url: `${mtls.url}/app.git`, secret: { "ca.crt": pki.caCert } }));
    expect(err.reason).toBe("AuthenticationFailed");
  });
});

describe.skipIf(!sshdAvailable())("Given SSH (needs sshd: openssh-server)", () => {
  const ssh = () => {
    if (!sshd) throw new Error("sshd did not start");
    return sshd;
  };
  const url = () => `${ssh().urlPrefix}${repo.bare}`;

  it("an identity and known_hosts / should resolve and fetch", async () => {
    const secret = { identity: b(sshKey.privateKey), known_hosts: b(ssh().knownHosts) };
    const dir = outDir();
    const checkout = await fetchSource({ url: url(), ref: { semver: ">=1.0.0 <1.1.0" }, secret }, dir);
    expect(checkout.revision).toBe(`v1.0.0@sha1:${commits.first}`);
    expect(await readFile(join(dir, "deploy", "app.yaml"), "utf8")).toBe("v: 1\n");
  });

  it("a passphrase-protected identity with its password / should fetch", async () => {
    const secret = {
      identity: b(sshKeyWithPass.privateKey),
      password: b("key-pass-do-not-leak"),
      known_hosts: b(ssh().knownHosts),
    };
    const resolved = await resolveSource({ url: url(), ref: { branch: "dev" }, secret });
    expect(resolved.revision).toBe(`dev@sha1:${commits.dev}`);
  });

  it("a wrong passphrase / should fail without leaking it", async () => {
    const secret = {
      identity: b(sshKeyWithPass.privateKey),
      password: b("wrong-passphrase-x"),
      known_hosts: b(ssh().knownHosts),
    };
    const err = await failure(resolveSource({ url: url(), secret }));
    expect(err.reason).toBe("AuthenticationFailed");
    expect(err.message).not.toContain("wrong-passphrase-x");
  });

  it("an unknown key / should fail with AuthenticationFailed", async () => {
    const other = await keys.sshKey();
    const err = await failure(
      resolveSource({ url: url(), secret: { identity: b(other.privateKey), known_hosts: b(ssh().knownHosts) } }),
    );
    expect(err).toMatchObject({ kind: "auth", reason: "AuthenticationFailed" });
  });

  it("a known_hosts without the server's key / should fail on host key verification", async () => {
    const wrong = `[127.0.0.1]:${ssh().port} ${sshKey.publicKey.split(" ").slice(0, 2).join(" ")}\n`;
    const err = await failure(
      resolveSource({ url: url(), secret: { identity: b(sshKey.privateKey), known_hosts: b(wrong) } }),
    );
    expect(err.kind).toBe("hostKey");
    expect(err.message).toMatch(/known_hosts/);
  });
});

describe("Given every failure above", () => {
  it("no error message, cause or serialized error / should contain a credential", async () => {
    // Failures of its own with every kind of credential, so that it has something to search when run alone; with the
    // file it searches every failure above as well.
    const withPassword = { url: `${basic.url}/app.git`, secret: basicSecret() };
    await failure(resolveSource({ ...withPassword, ref: { branch: "nope" } }));
    await failure(resolveSource({ ...withPassword, url: `${basic.url}/nope.git` }));
    await failure(resolveSource({ ...withPassword, secret: { username: b(user), password: b("wrong-pass-x") } }));
    await failure(resolveSource({ url: `${bearer.url}/app.git`, secret: { bearerToken: b(token) } }));
    await failure(
      resolveSource({ url: `${bearer.url}/app.git`, secret: { bearerToken: b("bad-token-x"), "ca.crt": pki.caCert } }),
    );
    if (sshd) {
      const secret = {
        identity: b(sshKeyWithPass.privateKey),
        password: b("wrong-passphrase-x"),
        known_hosts: b(sshd.knownHosts),
      };
      await failure(resolveSource({ url: `${sshd.urlPrefix}${repo.bare}`, secret }));
    }
    expect(errors.length).toBeGreaterThanOrEqual(15);
    const all = errors.join("\n");
    for (const secret of [
      password,
      token,
      "key-pass-do-not-leak",
      "wrong-pass-x",
      "bad-token-x",
      "wrong-passphrase-x",
    ]) {
      expect(all).not.toContain(secret);
      expect(all).not.toContain(Buffer.from(`${user}:${secret}`).toString("base64"));
    }
    expect(all).not.toContain("PRIVATE KEY");
  });
});
