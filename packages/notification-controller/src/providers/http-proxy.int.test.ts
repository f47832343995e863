// Notifications behind the proxy Flux documents on its Deployments (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), through a real
// forward proxy on loopback. The receivers' names exist only in the proxy's table, so a delivery that arrives went
// through it; NO_PROXY sends it direct, where the name does not resolve.
import { createServer as createHttpServer, type IncomingMessage, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { createTestPki, startTestProxy, type TestPki, type TestProxy } from "@capstan/gitserver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTransport, DeliveryError } from "./http.js";

const proxyPassword = "proxy-pass-do-not-leak";
const name = "hooks.example.test";
let pki: TestPki;
let proxy: TestProxy;
let plain: Server;
let secure: Server;
const received: string[] = [];

const handler = (req: IncomingMessage, res: import("node:http").ServerResponse) => {
  let body = "";
  req.on("data", (d: Buffer) => {
    body += d.toString();
  });
  req.on("end", () => {
    received.push(`${req.method} ${req.url} ${body}`);
    res.writeHead(200).end("ok");
  });
};

const listen = async (server: Server) => {
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return (server.address() as AddressInfo).port;
};

let plainPort: number;
let securePort: number;
let proxyWithLogin: string;

beforeAll(async () => {
  pki = await createTestPki({ serverNames: [name] });
  plain = createHttpServer(handler);
  secure = createHttpsServer({ cert: pki.serverCert, key: pki.serverKey }, handler);
  plainPort = await listen(plain);
  securePort = await listen(secure);
  proxy = await startTestProxy({ username: "me", password: proxyPassword }, { hosts: { [name]: "127.0.0.1" } });
  proxyWithLogin = proxy.url.replace("http://", `http://me:${proxyPassword}@`);
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  for (const s of [plain, secure]) {
    s?.closeAllConnections();
    await new Promise((ok) => s?.close(ok));
  }
});

const post = async (url: string, env: Parameters<typeof createTransport>[0]["proxyEnv"]) => {
  const transport = createTransport({ timeoutMs: 10_000, caCert: pki.caCert.toString(), proxyEnv: env ?? {} });
  try {
    return await transport.send({ method: "POST", url, headers: { "content-type": "text/plain" }, body: "event" });
  } finally {
    await transport.close();
  }
};

describe("Given the controller's environment names a proxy", () => {
  it("HTTPS_PROXY with a login / should deliver to an https receiver through a CONNECT tunnel", async () => {
    const res = await post(`https://${name}:${securePort}/slack`, { httpsProxy: proxyWithLogin });
    expect(res.status).toBe(200);
    expect(received).toContain("POST /slack event");
    expect(proxy.requests).toContainEqual({ line: `CONNECT ${name}:${securePort}`, allowed: true });
  });

  it("HTTP_PROXY / should deliver to an http receiver through the proxy", async () => {
    const res = await post(`http://${name}:${plainPort}/hook`, { httpProxy: proxyWithLogin });
    expect(res.status).toBe(200);
    expect(received).toContain("POST /hook event");
    expect(proxy.requests).toContainEqual({ line: `POST http://${name}:${plainPort}/hook`, allowed: true });
  });

  it("NO_PROXY naming the receiver / should go direct (where the name does not resolve)", async () => {
    const before = proxy.requests.length;
    const err = await post(`https://${name}:${securePort}/direct`, { httpsProxy: proxyWithLogin, noProxy: name }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeliveryError);
    expect(proxy.requests.length).toBe(before);
    expect(received.some((r) => r.includes("/direct"))).toBe(false);
  });

  it("a refused proxy login / should fail without the password in the message", async () => {
    const wrong = proxy.url.replace("http://", "http://me:wrong-pass-do-not-leak@");
    const err = await post(`https://${name}:${securePort}/refused`, { httpsProxy: wrong }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect(String((err as Error).message)).not.toContain("wrong-pass-do-not-leak");
    expect(proxy.requests.some((r) => !r.allowed)).toBe(true);
  });

  it("a socks5 proxy / should fail with a clear message rather than go direct", async () => {
    const err = await post(`https://${name}:${securePort}/socks`, { httpsProxy: "socks5://127.0.0.1:1080" }).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toMatch(/socks5 proxy is not supported for notifications/);
  });
});
