// A real HTTP forward proxy on loopback (the `proxy` package: absolute-URI requests and CONNECT tunnels), with
// optional basic auth, recording what went through it so tests can prove git traffic took the proxy.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createProxy } from "proxy";

export interface TestProxy {
  /** http://127.0.0.1:<port> */
  url: string;
  /** Request lines seen ("GET http://127.0.0.1:1234/app.git/info/refs?..." or "CONNECT host:port"), allowed or not. */
  requests: { line: string; allowed: boolean }[];
  close(): Promise<void>;
}

export interface TestProxyOptions {
  /**
   * Names only this proxy resolves ({"git.example.test": "127.0.0.1"}): a request to such a name succeeds only through
   * the proxy (it has no DNS entry), and a loopback address, which Go's proxy rule never proxies, is not needed.
   */
  hosts?: Record<string, string>;
}

export async function startTestProxy(
  auth?: { username: string; password: string },
  options: TestProxyOptions = {},
): Promise<TestProxy> {
  const requests: TestProxy["requests"] = [];
  const server = createProxy(createServer());
  const expected = auth ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}` : undefined;
  server.authenticate = (req) => {
    const allowed = expected === undefined || req.headers["proxy-authorization"] === expected;
    requests.push({ line: `${req.method ?? ""} ${req.url ?? ""}`, allowed });
    if (allowed && req.url) req.url = mapHost(req.url, options.hosts ?? {});
    return allowed;
  };
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** The request target with a mapped host: "name:port" (CONNECT) or "http://name:port/path" (absolute form). */
function mapHost(target: string, hosts: Record<string, string>): string {
  const absolute = /^(https?:\/\/)([^/:]+)(.*)$/i.exec(target);
  if (absolute) {
    const mapped = hosts[absolute[2]?.toLowerCase() ?? ""];
    return mapped ? `${absolute[1]}${mapped}${absolute[3]}` : target;
  }
  const colon = target.lastIndexOf(":");
  const mapped = colon > 0 ? hosts[target.slice(0, colon).toLowerCase()] : undefined;
  return mapped ? `${mapped}${target.slice(colon)}` : target;
}
