// The registry client against a small distribution-API server on loopback that demands a bearer token, as Docker Hub,
// GHCR and most hosted registries do: the token flow, the cost of an unchanged tag, and bounded reads.
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { type AddressInfo, BlockList } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestProxy } from "@capstan/gitserver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryAuthCache } from "./auth-cache.js";
import { parseChallenge, RegistryClient } from "./client.js";

const sha = (b: Buffer | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const layer = Buffer.from("layer-bytes");
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    layers: [{ mediaType: "application/vnd.cncf.flux.content.v1.tar+gzip", digest: sha(layer), size: layer.length }],
    annotations: { "org.opencontainers.image.source": "https://example.com/app" },
  }),
);
const token = "token-value-never-logged";
const basic = `Basic ${Buffer.from("user:pass-word").toString("base64")}`;

let server: Server;
let host: string;
/** Where the challenge sends clients for a token: this server, under the name `realmHost` (default: `host`). */
let realmHost: string | undefined;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.url?.startsWith("/token")) {
      const url = new URL(req.url, "http://x");
      if (req.headers.authorization !== basic || url.searchParams.get("scope") !== "repository:team/app:pull") {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token }));
      return;
    }
    if (req.headers.authorization !== `Bearer ${token}`) {
      res
        .writeHead(401, {
          "www-authenticate": `Bearer realm="http://${realmHost ?? host}/token",service="test",scope="repository:team/app:pull"`,
        })
        .end();
      return;
    }
    if (req.url === "/v2/team/app/manifests/1.0.0" || req.url === `/v2/team/app/manifests/${sha(manifest)}`) {
      res.writeHead(200, {
        "docker-content-digest": sha(manifest),
        "content-type": "application/vnd.oci.image.manifest.v1+json",
      });
      res.end(req.method === "HEAD" ? undefined : manifest);
      return;
    }
    if (req.url === `/v2/team/app/blobs/${sha(layer)}`) {
      res.writeHead(200).end(layer);
      return;
    }
    res
      .writeHead(404, { "content-type": "application/json" })
      .end(JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const client = (password = "pass-word", authCache?: RegistryAuthCache) =>
  new RegistryClient({
    host,
    repository: "team/app",
    plainHttp: true,
    credentials: { username: "user", password },
    ...(authCache ? { authCache } : {}),
  });

describe("RegistryClient against a registry that demands a bearer token", () => {
  it("Given credentials / should get a token with them and resolve a tag with one manifest HEAD", async () => {
    const c = client();
    seen.length = 0;
    expect(await c.resolve("1.0.0")).toBe(sha(manifest));
    // Challenge, token, then the one HEAD that counts; a second resolve on the same client reuses the token.
    expect(seen).toEqual([
      "HEAD /v2/team/app/manifests/1.0.0",
      "GET /token?service=test&scope=repository%3Ateam%2Fapp%3Apull",
      "HEAD /v2/team/app/manifests/1.0.0",
    ]);
    seen.length = 0;
    await c.resolve("1.0.0");
    expect(seen).toEqual(["HEAD /v2/team/app/manifests/1.0.0"]);
    c.close();
  });

  it("Given the manifest and its layer / should read annotations and stream the layer with its digest checked", async () => {
    const c = client();
    const m = await c.manifest(sha(manifest));
    expect(m.annotations).toEqual({ "org.opencontainers.image.source": "https://example.com/app" });
    const dir = await mkdtemp(join(tmpdir(), "capstan-oci-client-"));
    try {
      const [l] = m.layers;
      if (!l) throw new Error("no layer");
      await c.downloadBlob(l, join(dir, "blob"), 1024);
      expect(await readFile(join(dir, "blob"))).toEqual(layer);
      await expect(c.downloadBlob(l, join(dir, "small"), 4)).rejects.toThrow(/over the limit of 4 bytes/);
    } finally {
      await rm(dir, { recursive: true, force: true });
      c.close();
    }
  });

  it("Given wrong credentials / should fail as AuthenticationFailed without the password or token in the message", async () => {
    const err: unknown = await client("wrong-secret-pw")
      .resolve("1.0.0")
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: "AuthenticationFailed" });
    expect((err as Error).message).not.toContain("wrong-secret-pw");
  });

  it("Given an unknown tag or manifest / should say not found, with the registry's error code when it sends one", async () => {
    await expect(client().resolve("9.9.9")).rejects.toThrow("failed to resolve 'team/app:9.9.9': not found");
    await expect(client().manifest(sha("other"))).rejects.toThrow(/not found \(MANIFEST_UNKNOWN: manifest unknown\)/);
  });
});

describe("RegistryClient with a RegistryAuthCache shared between reconciles", () => {
  const tokenRequest = "GET /token?service=test&scope=repository%3Ateam%2Fapp%3Apull";
  const head = "HEAD /v2/team/app/manifests/1.0.0";

  it("Given a token still valid / should send it at once: one manifest HEAD, no token request", async () => {
    let now = 1_000_000;
    const cache = new RegistryAuthCache({ now: () => now });
    seen.length = 0;
    await client("pass-word", cache).resolve("1.0.0");
    expect(seen).toEqual([head, tokenRequest, head]);

    seen.length = 0;
    await client("pass-word", cache).resolve("1.0.0");
    expect(seen).toEqual([head]);

    // The server sent no expires_in: 60 s, as the token spec says. Past it, the known challenge means one token
    // request before the one HEAD, without meeting a 401 first.
    now += 61_000;
    seen.length = 0;
    await client("pass-word", cache).resolve("1.0.0");
    expect(seen).toEqual([tokenRequest, head]);
  });

  it("Given other credentials for the same registry / should not reuse a token granted to the first ones", async () => {
    const cache = new RegistryAuthCache();
    await client("pass-word", cache).resolve("1.0.0");
    seen.length = 0;
    await expect(client("other-secret-pw", cache).resolve("1.0.0")).rejects.toMatchObject({
      reason: "AuthenticationFailed",
    });
    expect(seen).not.toContain(head.replace("HEAD", "GET"));
    expect(seen.filter((s) => s === tokenRequest)).toHaveLength(1);
    expect(cache.size.tokens).toBe(1);
  });
});

describe("RegistryClient and a token realm on another host than the registry's", () => {
  const port = () => host.split(":")[1];
  afterAll(() => {
    realmHost = undefined;
  });

  it("Given a realm host that resolves to an allowed address / should send the credentials there, as docker clients do", async () => {
    realmHost = `localhost:${port()}`;
    const c = new RegistryClient({
      host,
      repository: "team/app",
      plainHttp: true,
      credentials: { username: "user", password: "pass-word" },
      blockedRealmAddresses: new BlockList(),
    });
    seen.length = 0;
    expect(await c.resolve("1.0.0")).toBe(sha(manifest));
    expect(seen).toContain("GET /token?service=test&scope=repository%3Ateam%2Fapp%3Apull");
    c.close();
  });

  it("Given a realm host that resolves to loopback (not the registry's own name) / should refuse to connect", async () => {
    realmHost = `localhost:${port()}`;
    seen.length = 0;
    const err: unknown = await client()
      .resolve("1.0.0")
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: "AuthenticationFailed" });
    expect((err as Error).message).toMatch(/token realm host 'localhost' resolves to (127\.0\.0\.1|::1)/);
    expect(seen.filter((s) => s.startsWith("GET /token"))).toEqual([]);
  });
});

describe("parseChallenge", () => {
  it("should read scheme and quoted parameters, commas inside quotes included", () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push"',
      ),
    ).toEqual({
      scheme: "bearer",
      params: {
        realm: "https://auth.docker.io/token",
        service: "registry.docker.io",
        scope: "repository:a/b:pull,push",
      },
    });
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({
      scheme: "basic",
      params: { realm: "Registry Realm" },
    });
    expect(parseChallenge(undefined)).toBeUndefined();
  });
});

describe("RegistryClient behind the proxy of the controller's environment (HTTP_PROXY, NO_PROXY)", () => {
  // The registry's name exists only in the proxy's table: what succeeds went through it.
  const name = "registry.example.test";
  const named = () => `${name}:${host.split(":")[1]}`;
  const proxied = (proxyEnv: Record<string, string>) =>
    new RegistryClient({
      host: named(),
      repository: "team/app",
      plainHttp: true,
      credentials: { username: "user", password: "pass-word" },
      proxyEnv,
    });

  it("Given HTTP_PROXY / should take the challenge, the token request and the manifest through the proxy", async () => {
    const proxy = await startTestProxy(undefined, { hosts: { [name]: "127.0.0.1" } });
    realmHost = named();
    try {
      const c = proxied({ httpProxy: proxy.url });
      expect(await c.resolve("1.0.0")).toBe(sha(manifest));
      c.close();
      expect(proxy.requests.map((r) => r.line)).toEqual([
        `HEAD http://${named()}/v2/team/app/manifests/1.0.0`,
        `GET http://${named()}/token?service=test&scope=repository%3Ateam%2Fapp%3Apull`,
        `HEAD http://${named()}/v2/team/app/manifests/1.0.0`,
      ]);
    } finally {
      realmHost = undefined;
      await proxy.close();
    }
  });

  it("Given NO_PROXY naming the registry / should go direct, where the name does not resolve", async () => {
    const proxy = await startTestProxy(undefined, { hosts: { [name]: "127.0.0.1" } });
    try {
      const c = proxied({ httpProxy: proxy.url, noProxy: ".example.test" });
      await expect(c.resolve("1.0.0")).rejects.toThrow(/cannot reach registry registry\.example\.test/);
      c.close();
      expect(proxy.requests).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it("Given a socks5 proxy / should fail with a clear message rather than go direct", async () => {
    const c = proxied({ httpProxy: "socks5://127.0.0.1:1080" });
    await expect(c.resolve("1.0.0")).rejects.toThrow(
      "controller environment: a socks5 proxy is not supported here (http and https are)",
    );
    c.close();
  });
});
