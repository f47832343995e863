// GitRepository behind the proxy Flux documents on its Deployments (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), read as Go
// reads them, against real git servers and a real forward proxy on loopback. The servers' name exists only in the
// proxy's table: a listing or fetch that succeeds went through the proxy; NO_PROXY sends git direct, where the name
// does not resolve.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createKeyStore,
  createTestPki,
  createTestRepo,
  type GitHttpServer,
  type SshServer,
  sshdAvailable,
  startGitHttpServer,
  startSshServer,
  startTestProxy,
  startTestSocksProxy,
  type TestPki,
  type TestProxy,
  type TestRepo,
  type TestSocksProxy,
} from "@capstan/gitserver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitError } from "../errors.js";
import { withoutTempDir } from "../testing/temp-dirs.js";
import { fetchSource, prepare, resolveSource } from "./source.js";

const user = "capstan";
const password = "git-pass-do-not-leak";
const proxyPassword = "proxy-pass-do-not-leak";
const name = "git.example.test";

let root: string;
let pki: TestPki;
let plain: GitHttpServer;
let secure: GitHttpServer;
let proxy: TestProxy;
let repo: TestRepo;
let login: string;
let head: string;

const at = (server: GitHttpServer) => server.url.replace("127.0.0.1", name);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "capstan-proxy-env-"));
  pki = await createTestPki({ serverNames: [name] });
  plain = await startGitHttpServer({ root, basicAuth: { username: user, password } });
  secure = await startGitHttpServer({ root, tls: { cert: pki.serverCert, key: pki.serverKey } });
  repo = await createTestRepo(root, "app.git", "main");
  head = await repo.commit({ "app.yaml": "kind: ConfigMap\n" });
  proxy = await startTestProxy({ username: "me", password: proxyPassword }, { hosts: { [name]: "127.0.0.1" } });
  login = proxy.url.replace("http://", `http://me:${proxyPassword}@`);
}, 120_000);

afterAll(async () => {
  await Promise.all([plain?.close(), secure?.close(), proxy?.close()]);
  await rm(root, { recursive: true, force: true });
  await rm(repo?.work ?? "/nonexistent", { recursive: true, force: true });
});

const secret = { username: Buffer.from(user), password: Buffer.from(password) };
const rejection = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GitError);
  return err as GitError;
};

describe("Given HTTP_PROXY / HTTPS_PROXY in the controller's environment", () => {
  it("HTTP_PROXY with a login / should list (in process) and fetch (git, told the proxy) through the proxy", async () => {
    const spec = {
      url: `${at(plain)}/app.git`,
      ref: { branch: "main" },
      secret,
      timeoutMs: 30_000,
      proxyEnv: { httpProxy: login },
    };
    const resolved = await resolveSource(spec);
    expect(resolved.revision).toBe(`main@sha1:${head}`);
    const dir = join(root, "checkout-plain");
    const out = await fetchSource(spec, dir, resolved);
    expect(out.commit).toBe(head);
    expect(await readFile(join(dir, "app.yaml"), "utf8")).toBe("kind: ConfigMap\n");
    const through = proxy.requests.filter((r) => r.allowed).map((r) => r.line);
    expect(through).toContain(
      `GET http://${name}:${new URL(plain.url).port}/app.git/info/refs?service=git-upload-pack`,
    );
    expect(through.some((l) => l.startsWith("POST ") && l.endsWith("/app.git/git-upload-pack"))).toBe(true);
  });

  it("HTTP_PROXY / should read the listing in process through the proxy: no git session (TMPDIR gone)", async () => {
    const before = proxy.requests.length;
    const spec = {
      url: `${at(plain)}/app.git`,
      ref: { branch: "main" },
      secret,
      timeoutMs: 30_000,
      proxyEnv: { httpProxy: login },
    };
    const resolved = await withoutTempDir(join(root, "no-such-tmp"), () => resolveSource(spec));
    expect(resolved.revision).toBe(`main@sha1:${head}`);
    expect(proxy.requests.slice(before)).toEqual([
      {
        line: `GET http://${name}:${new URL(plain.url).port}/app.git/info/refs?service=git-upload-pack`,
        allowed: true,
      },
    ]);
  });

  it("HTTPS_PROXY / should reach an https server through a CONNECT tunnel, its CA checked end to end", async () => {
    const spec = {
      url: `${at(secure)}/app.git`,
      ref: { branch: "main" },
      secret: { "ca.crt": pki.caCert },
      timeoutMs: 30_000,
      proxyEnv: { httpsProxy: login },
    };
    expect((await resolveSource(spec)).revision).toBe(`main@sha1:${head}`);
    expect(proxy.requests).toContainEqual({ line: `CONNECT ${name}:${new URL(secure.url).port}`, allowed: true });
  });

  it("NO_PROXY naming the server / should go direct, where the name does not resolve", async () => {
    const before = proxy.requests.length;
    const err = await rejection(
      resolveSource({
        url: `${at(plain)}/app.git`,
        secret,
        timeoutMs: 30_000,
        proxyEnv: { httpProxy: login, noProxy: `.example.test` },
      }),
    );
    expect(err.kind).toBe("unreachable");
    expect(proxy.requests.length).toBe(before);
  });

  it("a refused proxy login / should fail without either password in the message", async () => {
    const wrong = proxy.url.replace("http://", "http://me:wrong-proxy-pass-do-not-leak@");
    const err = await rejection(
      resolveSource({ url: `${at(plain)}/app.git`, secret, timeoutMs: 30_000, proxyEnv: { httpProxy: wrong } }),
    );
    expect(err.message).not.toContain("wrong-proxy-pass-do-not-leak");
    expect(err.message).not.toContain(password);
    expect(proxy.requests.some((r) => !r.allowed)).toBe(true);
  });

  it("a proxy value that is no URL / should say which variable, without its value", async () => {
    // prepare() checks the spec before any promise: the reconciler awaits it in an async step either way.
    const err = await rejection(
      (async () =>
        resolveSource({ url: `${at(plain)}/app.git`, secret, proxyEnv: { httpProxy: "http://me:secret@[bad" } }))(),
    );
    expect(err.message).toBe("controller environment: invalid proxy address in HTTP_PROXY");
  });

  it("an ssh URL / should take neither HTTPS_PROXY nor HTTP_PROXY (Go's rule covers http and https only)", () => {
    const proxyEnv = { httpsProxy: login, httpProxy: login };
    const ssh = prepare({ url: `ssh://git@${name}:22/app.git`, proxyEnv });
    expect(ssh.proxy).toBeUndefined();
    expect(ssh.socks).toBeUndefined();
    // The control: the same settings do give an https URL its proxy.
    expect(prepare({ url: `https://${name}/app.git`, proxyEnv }).proxy?.address).toBe(proxy.url.concat("/"));
  });
});

describe.skipIf(!sshdAvailable())("Given ALL_PROXY (SOCKS5, as Flux documents it for Git over SSH; needs sshd)", () => {
  const socksPassword = "socks-pass-do-not-leak";
  let sshd: SshServer;
  let socks: TestSocksProxy;
  let secret: Record<string, Buffer>;
  let url: string;

  beforeAll(async () => {
    const keys = await createKeyStore();
    const key = await keys.sshKey();
    sshd = await startSshServer([key.publicKey]);
    socks = await startTestSocksProxy({ username: "me", password: socksPassword }, { hosts: { [name]: "127.0.0.1" } });
    // ssh checks the host key under the name it was given: the proxy resolves it, ssh never does.
    const knownHosts = sshd.knownHosts.replace("[127.0.0.1]", `[${name}]`);
    secret = { identity: Buffer.from(key.privateKey), known_hosts: Buffer.from(knownHosts) };
    url = `${sshd.urlPrefix.replace("127.0.0.1", name)}${repo.bare}`;
  }, 60_000);

  afterAll(async () => {
    await Promise.all([sshd?.close(), socks?.close()]);
  });

  const allProxy = (password = socksPassword) => socks.url.replace("socks5://", `socks5://me:${password}@`);

  it("with a login / should list and fetch over SSH through the proxy (ssh's ProxyCommand)", async () => {
    const spec = { url, ref: { branch: "main" }, secret, timeoutMs: 30_000, proxyEnv: { allProxy: allProxy() } };
    const resolved = await resolveSource(spec);
    expect(resolved.revision).toBe(`main@sha1:${head}`);
    const dir = join(root, "checkout-ssh");
    expect((await fetchSource(spec, dir, resolved)).commit).toBe(head);
    expect(await readFile(join(dir, "app.yaml"), "utf8")).toBe("kind: ConfigMap\n");
    expect(socks.requests).toContainEqual({ line: `CONNECT ${name}:${sshd.port}`, allowed: true });
  });

  it("NO_PROXY naming the server / should go direct, where the name does not resolve", async () => {
    const before = socks.requests.length;
    const spec = { url, secret, timeoutMs: 30_000, proxyEnv: { allProxy: allProxy(), noProxy: name } };
    await rejection(resolveSource(spec));
    expect(socks.requests.length).toBe(before);
  });

  it("a host with shell metacharacters (ssh's ProxyCommand runs in a shell) / should be refused before any process", async () => {
    const marker = join(root, "pwned");
    const hostile = `ssh://git@a$(touch\${IFS}${marker})b:${sshd.port}${repo.bare}`;
    const err = await rejection(
      (async () => resolveSource({ url: hostile, secret, timeoutMs: 10_000, proxyEnv: { allProxy: allProxy() } }))(),
    );
    expect(err.reason).toBe("URLInvalid");
    await expect(readFile(marker)).rejects.toThrow(/ENOENT/);
  });

  it("a refused proxy login / should fail without the password in the message", async () => {
    const wrong = "wrong-socks-pass-do-not-leak";
    const err = await rejection(
      resolveSource({ url, secret, timeoutMs: 30_000, proxyEnv: { allProxy: allProxy(wrong) } }),
    );
    expect(err.message).not.toContain(wrong);
    expect(socks.requests.some((r) => !r.allowed)).toBe(true);
  });
});
