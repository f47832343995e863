// The in-process ls-remote against real git servers on loopback (git http-backend over HTTP with basic auth, HTTPS with
// a bearer token and a test CA, mTLS), compared with `git ls-remote` itself; the answers it must hand to git (a
// redirect, dumb HTTP, a refused credential, an unknown CA, a malformed advertisement); and the bounds it enforces
// itself against a hostile server (size, deadline, cancel).
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, normalize } from "node:path";
import { promisify } from "node:util";
import {
  createTestPki,
  createTestRepo,
  type GitHttpServer,
  startGitHttpServer,
  type TestPki,
  type TestRepo,
} from "@capstan/gitserver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitError } from "../errors.js";
import { withoutTempDir } from "../testing/temp-dirs.js";
import type { HttpAuth } from "./auth.js";
import { runGit } from "./exec.js";
import { parseLsRemote } from "./reference.js";
import { listRemote } from "./remote.js";
import { type GitSession, openSession } from "./session.js";
import { lsRemoteHttp } from "./smart-http.js";
import { resolveSource } from "./source.js";

const user = "capstan";
const password = "pa55-w0rd-do-not-leak";
const token = "t0ken-do-not-leak";

let root: string;
let pki: TestPki;
let basic: GitHttpServer;
let bearer: GitHttpServer;
let mtls: GitHttpServer;
let repo: TestRepo;
const servers: Server[] = [];
const sockets = new Set<Socket>();

const basicAuth: HttpAuth = { transport: "http", username: user, password };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "capstan-smart-"));
  pki = await createTestPki();
  basic = await startGitHttpServer({ root, basicAuth: { username: user, password } });
  bearer = await startGitHttpServer({ root, bearerToken: token, tls: { cert: pki.serverCert, key: pki.serverKey } });
  mtls = await startGitHttpServer({
    root,
    tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert, requireClientCert: true },
  });
  repo = await createTestRepo(root, "app.git", "main");
  await repo.commit({ "a.yaml": "a: 1\n" });
  await repo.tag("v1.0.0", { message: "release 1.0.0" });
  await repo.commit({ "a.yaml": "a: 2\n" });
  await repo.tag("v1.1.0");
  await repo.branch("dev");
  await repo.commit({ "a.yaml": "a: dev\n" });
  await repo.pushRef("refs/pull/1/head");
  await repo.branch("main");
  await createTestRepo(root, "empty.git", "main");
  // Dumb HTTP needs the info/refs file that update-server-info writes; the static server below serves it.
  await promisify(execFile)("git", ["update-server-info"], { cwd: repo.bare });
}, 120_000);

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
  await Promise.all([basic?.close(), bearer?.close(), mtls?.close()]);
  await rm(root, { recursive: true, force: true });
  await rm(repo?.work ?? "/nonexistent", { recursive: true, force: true });
});

/** An HTTP server on loopback answering with `handler`; closed after the file. */
async function serve(handler: Parameters<typeof createHttpServer>[1]): Promise<string> {
  const server = createHttpServer(handler);
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  servers.push(server);
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** A static file server over the repositories: dumb HTTP, which only git can list. */
const serveDumb = () =>
  serve(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    const body = await readFile(join(root, path)).catch(() => undefined);
    if (body) res.writeHead(200, { "Content-Type": "text/plain" }).end(body);
    else res.writeHead(404).end();
  });

/** What `git ls-remote` lists for the URL with these credentials. */
async function gitListing(url: string, auth: HttpAuth): Promise<ReturnType<typeof parseLsRemote>> {
  const session = await openSession(auth);
  try {
    return parseLsRemote(await runGit(session, ["ls-remote", "--", url], { timeoutMs: 30_000 }));
  } finally {
    await session.dispose();
  }
}

/** A session whose PATH has no git: a listing that succeeds in it ran no process. */
async function withoutGit<T>(auth: HttpAuth, fn: (s: GitSession) => Promise<T>): Promise<T> {
  const session = await openSession(auth, undefined, { PATH: "/nonexistent" });
  try {
    return await fn(session);
  } finally {
    await session.dispose();
  }
}

async function rejection(p: Promise<unknown>): Promise<GitError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GitError);
  return err as GitError;
}

describe("Given a smart HTTP(S) server", () => {
  const cases: [string, () => string, () => HttpAuth][] = [
    ["basic auth over HTTP", () => `${basic.url}/app.git`, () => basicAuth],
    [
      "a bearer token over HTTPS with the CA",
      () => `${bearer.url}/app.git`,
      () => ({ transport: "https", bearerToken: token, caCert: pki.caCert }),
    ],
    [
      "mTLS with a client certificate",
      () => `${mtls.url}/app.git/`,
      () => ({ transport: "https", caCert: pki.caCert, tlsCert: pki.clientCert, tlsKey: pki.clientKey }),
    ],
    ["an empty repository", () => `${basic.url}/empty.git`, () => basicAuth],
  ];

  it.each(cases)("%s / should list exactly what git ls-remote lists, with no process", async (_, url, auth) => {
    const listing = await lsRemoteHttp(url(), auth(), { timeoutMs: 30_000 });
    expect(listing).toBeDefined();
    const expected = await gitListing(url(), auth());
    expect(parseLsRemote(listing ?? "")).toEqual(expected);
    const refs = await withoutGit(auth(), (s) => listRemote(s, url(), { timeoutMs: 30_000 }, auth()));
    expect(refs).toEqual(expected);
    if (!url().includes("empty")) {
      expect(refs.get("refs/tags/v1.0.0")?.peeled).toMatch(/^[0-9a-f]{40}$/);
      expect([...refs.keys()]).toEqual(expect.arrayContaining(["HEAD", "refs/heads/dev", "refs/pull/1/head"]));
    } else {
      expect(refs.size).toBe(0);
    }
  });

  it("the control: without `direct` / should run git (and fail where there is none)", async () => {
    const err = await rejection(
      withoutGit(basicAuth, (s) => listRemote(s, `${basic.url}/app.git`, { timeoutMs: 30_000 })),
    );
    expect(err.message).toMatch(/git binary not found/);
  });
});

describe("Given an answer git must handle", () => {
  const handOver = async (url: string, auth: HttpAuth) => {
    expect(await lsRemoteHttp(url, auth, { timeoutMs: 10_000 })).toBeUndefined();
    const session = await openSession(auth);
    try {
      return await listRemote(session, url, { timeoutMs: 30_000 }, auth);
    } finally {
      await session.dispose();
    }
  };

  it("a redirect / should not follow it itself, and git's listing (which follows it) should be used", async () => {
    const target = await startGitHttpServer({ root });
    try {
      const redirector = await serve((req, res) => {
        res.writeHead(302, { Location: `${target.url}${req.url}` }).end();
      });
      expect(await lsRemoteHttp(`${redirector}/app.git`, basicAuth, { timeoutMs: 10_000 })).toBeUndefined();
      expect(target.requests).toEqual([]); // the credentials went nowhere else
      const refs = await handOver(`${redirector}/app.git`, { transport: "http" });
      expect(refs).toEqual(await gitListing(`${basic.url}/app.git`, basicAuth));
      expect(target.requests.length).toBeGreaterThan(0); // git followed it
    } finally {
      await target.close();
    }
  });

  it("dumb HTTP (a static file server) / should hand over to git, whose listing matches", async () => {
    const dumb = await serveDumb();
    const refs = await handOver(`${dumb}/app.git`, { transport: "http" });
    const smart = await gitListing(`${basic.url}/app.git`, basicAuth);
    expect(refs.get("refs/heads/main")).toEqual(smart.get("refs/heads/main"));
    expect(refs.get("refs/tags/v1.0.0")).toEqual(smart.get("refs/tags/v1.0.0"));
  });

  it("a refused password / should hand over to git, whose error says AuthenticationFailed", async () => {
    const auth: HttpAuth = { transport: "http", username: user, password: "wrong-pass-x" };
    const err = await rejection(handOver(`${basic.url}/app.git`, auth));
    expect(err.reason).toBe("AuthenticationFailed");
    expect(err.message).not.toContain("wrong-pass-x");
  });

  it("a server certificate from an unknown CA / should hand over to git, whose error names the certificate", async () => {
    const err = await rejection(handOver(`${bearer.url}/app.git`, { transport: "https", bearerToken: token }));
    expect(err.kind).toBe("unreachable");
    expect(err.message).toMatch(/certificate/i);
    expect(err.message).not.toContain(token);
  });

  it("a malformed advertisement / should hand over to git, whose error is git's", async () => {
    const url = await serve((_, res) => {
      res
        .writeHead(200, { "Content-Type": "application/x-git-upload-pack-advertisement" })
        .end("001e# service=git-upload-pack\nzz");
    });
    const err = await rejection(handOver(`${url}/app.git`, { transport: "http" }));
    expect(err.message).toMatch(/^git ls-remote: /);
  });
});

describe("Given a hostile server", () => {
  const advertise = (res: import("node:http").ServerResponse) => {
    res.writeHead(200, { "Content-Type": "application/x-git-upload-pack-advertisement" });
    res.write("001e# service=git-upload-pack\n0000");
  };
  const line = (n: number) => {
    const body = `${"0".repeat(40)} refs/heads/b${n}\n`;
    return `${(body.length + 4).toString(16).padStart(4, "0")}${body}`;
  };

  it("an advertisement larger than the bound / should fail on the bound, without running git", async () => {
    const url = await serve((_, res) => {
      advertise(res);
      res.end(Array.from({ length: 2_000 }, (_, i) => line(i)).join(""));
    });
    const err = await rejection(
      withoutGit({ transport: "http" }, () =>
        lsRemoteHttp(`${url}/app.git`, { transport: "http" }, { timeoutMs: 10_000, maxBytes: 16 * 1024 }),
      ),
    );
    expect(err.message).toBe("git ls-remote: the server's ref advertisement is larger than 16384 bytes");
  });

  it("an advertisement that never ends / should time out at the deadline, without running git after it", async () => {
    const url = await serve((_, res) => {
      advertise(res);
      let n = 0;
      const t = setInterval(() => {
        if (res.destroyed) return clearInterval(t);
        res.write(line(n++));
      }, 5);
    });
    const started = Date.now();
    const err = await rejection(
      withoutGit({ transport: "http" }, (s) =>
        listRemote(s, `${url}/app.git`, { timeoutMs: 1_000 }, { transport: "http" }),
      ),
    );
    expect(err).toMatchObject({ kind: "timeout", message: "git ls-remote: timed out after 1s" });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("a refusal after part of the deadline, then silence for git / should time out naming the whole deadline", async () => {
    let n = 0;
    const url = await serve((_, res) => {
      if (n++ === 0) setTimeout(() => res.writeHead(503).end(), 1_800); // ours: refused late, handed to git
      // git's: never answered
    });
    const started = Date.now();
    const err = await rejection(
      (async () => {
        const session = await openSession({ transport: "http" });
        try {
          return await listRemote(session, `${url}/app.git`, { timeoutMs: 3_000 }, { transport: "http" });
        } finally {
          await session.dispose();
        }
      })(),
    );
    expect(err).toMatchObject({ kind: "timeout", message: "git ls-remote: timed out after 3s" });
    expect(n).toBe(2);
    expect(Date.now() - started).toBeLessThan(4_500); // git had what was left, not a second 3 s
  });

  it("a canceled reconcile / should stop the listing", async () => {
    const url = await serve(() => undefined); // accepts, never answers
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const err = await rejection(
      lsRemoteHttp(`${url}/app.git`, { transport: "http" }, { timeoutMs: 30_000, signal: controller.signal }),
    );
    expect(err.message).toBe("git ls-remote: canceled");
  });

  it("a server that accepts and never answers / should time out", async () => {
    const server = createServer((s) => sockets.add(s));
    servers.push(server as unknown as Server);
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/app.git`;
    const err = await rejection(lsRemoteHttp(url, { transport: "http" }, { timeoutMs: 500 }));
    expect(err).toMatchObject({ kind: "timeout", message: "git ls-remote: timed out after 1s" });
  });
});

describe("Given resolveSource, the reconciler's listing", () => {
  const withoutTmp = <T>(fn: () => Promise<T>) => withoutTempDir(join(root, "no-such-tmp"), fn);
  const secret = { username: Buffer.from(user), password: Buffer.from(password) };

  it("read in process / should open no git session (no temp directory, no credential files)", async () => {
    const resolved = await withoutTmp(() =>
      resolveSource({ url: `${basic.url}/app.git`, ref: { branch: "main" }, secret, timeoutMs: 30_000 }),
    );
    expect(resolved.revision).toBe(
      `main@sha1:${(await gitListing(`${basic.url}/app.git`, basicAuth)).get("refs/heads/main")?.hash}`,
    );
  });

  it("handed over to git / should open the session then (the control: it fails without a temp directory)", async () => {
    const dumb = await serveDumb();
    const spec = { url: `${dumb}/app.git`, ref: { branch: "main" }, timeoutMs: 30_000 };
    await expect(withoutTmp(() => resolveSource(spec))).rejects.toThrow(/prepare git credentials|ENOENT/);
    expect((await resolveSource(spec)).reference).toBe("refs/heads/main");
  });
});
