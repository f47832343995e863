// Helm repository downloads behind the proxy Flux documents on its Deployments (HTTPS_PROXY, HTTP_PROXY, NO_PROXY),
// through a real forward proxy on loopback. The servers' names exist only in the proxy's table: a download that
// succeeds went through it; NO_PROXY sends a hop direct, where the name does not resolve.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { createTestPki, startTestProxy, type TestPki, type TestProxy } from "@capstan/gitserver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HelmFetchError, httpGet } from "./http.js";

const index = "apiVersion: v1\nentries: {}\n";
let pki: TestPki;
let proxy: TestProxy;
let plain: Server;
let secure: Server;
let plainPort: number;
let securePort: number;

const handler = (req: IncomingMessage, res: ServerResponse) => {
  if (req.url === "/moved/index.yaml") {
    res.writeHead(302, { Location: `http://cdn.example.test:${plainPort}/index.yaml` }).end();
    return;
  }
  res.writeHead(200, { "Content-Type": "text/yaml" }).end(index);
};
const listen = async (server: Server) => {
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return (server.address() as AddressInfo).port;
};

beforeAll(async () => {
  pki = await createTestPki({ serverNames: ["charts.example.test"] });
  plain = createServer(handler);
  secure = createHttpsServer({ cert: pki.serverCert, key: pki.serverKey }, handler);
  plainPort = await listen(plain);
  securePort = await listen(secure);
  proxy = await startTestProxy(
    { username: "me", password: "proxy-pass" },
    { hosts: { "charts.example.test": "127.0.0.1", "cdn.example.test": "127.0.0.1" } },
  );
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  for (const s of [plain, secure]) {
    s?.closeAllConnections();
    await new Promise((ok) => s?.close(ok));
  }
});

const login = () => proxy.url.replace("http://", "http://me:proxy-pass@");
const get = (url: string, proxyEnv: Record<string, string>, ca?: Buffer) =>
  httpGet(url, { timeoutMs: 10_000, maxBytes: 1024, proxyEnv, ...(ca ? { ca } : {}) });

describe("Given a proxy in the controller's environment", () => {
  it("HTTPS_PROXY / should download over a CONNECT tunnel, the repository's CA checked end to end", async () => {
    const url = `https://charts.example.test:${securePort}/index.yaml`;
    expect((await get(url, { httpsProxy: login() }, pki.caCert)).toString()).toBe(index);
    expect(proxy.requests).toContainEqual({ line: `CONNECT charts.example.test:${securePort}`, allowed: true });
  });

  it("HTTP_PROXY / should take every hop of a redirect through the proxy", async () => {
    const body = await get(`http://charts.example.test:${plainPort}/moved/index.yaml`, { httpProxy: login() });
    expect(body.toString()).toBe(index);
    expect(proxy.requests).toContainEqual({
      line: `GET http://cdn.example.test:${plainPort}/index.yaml`,
      allowed: true,
    });
  });

  it("NO_PROXY naming the redirect's host / should send that hop direct (each hop decides)", async () => {
    const err = await get(`http://charts.example.test:${plainPort}/moved/index.yaml`, {
      httpProxy: login(),
      noProxy: "cdn.example.test",
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HelmFetchError);
    expect((err as HelmFetchError).kind).toBe("unreachable");
    expect((err as Error).message).toContain("cdn.example.test");
  });

  it("a socks5 proxy / should fail with a clear message rather than go direct", async () => {
    const err = await get(`https://charts.example.test:${securePort}/index.yaml`, {
      httpsProxy: "socks5://127.0.0.1:1080",
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      "controller environment: a socks5 proxy is not supported here (http and https are)",
    );
  });
});
