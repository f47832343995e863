// A real Git smart-HTTP server for tests: `git http-backend` run as CGI behind a Node HTTP(S) server on loopback,
// with optional basic auth, bearer-token auth and client-certificate (mTLS) checks.
import { spawn } from "node:child_process";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";

export interface GitHttpServerOptions {
  /** Directory holding bare repositories (served as /<name>.git). */
  root: string;
  basicAuth?: { username: string; password: string };
  bearerToken?: string;
  tls?: { cert: Buffer; key: Buffer; ca?: Buffer; requireClientCert?: boolean };
  gitHttpBackend?: string;
}

export interface GitHttpServer {
  url: string;
  /** Requests seen, for tests asserting what the client sent (method and path only). */
  requests: { method: string; path: string; authorized: boolean }[];
  close(): Promise<void>;
}

function authorized(req: IncomingMessage, options: GitHttpServerOptions): boolean {
  const header = req.headers.authorization ?? "";
  if (options.bearerToken) return header === `Bearer ${options.bearerToken}`;
  if (options.basicAuth) {
    const expected = Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`).toString("base64");
    return header === `Basic ${expected}`;
  }
  return true;
}

function runBackend(req: IncomingMessage, res: ServerResponse, options: GitHttpServerOptions): void {
  const url = new URL(req.url ?? "/", "http://localhost");
  const child = spawn(options.gitHttpBackend ?? "/usr/lib/git-core/git-http-backend", [], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      GIT_PROJECT_ROOT: options.root,
      GIT_HTTP_EXPORT_ALL: "1",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      REQUEST_METHOD: req.method ?? "GET",
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers["content-type"] ?? "",
      GIT_PROTOCOL: String(req.headers["git-protocol"] ?? ""),
      HTTP_CONTENT_ENCODING: String(req.headers["content-encoding"] ?? ""),
      REMOTE_USER: options.basicAuth?.username ?? "anonymous",
      REMOTE_ADDR: req.socket.remoteAddress ?? "127.0.0.1",
    },
    stdio: ["pipe", "pipe", "ignore"],
  });
  req.pipe(child.stdin);
  let head = Buffer.alloc(0);
  let headersDone = false;
  child.stdout.on("data", (chunk: Buffer) => {
    if (headersDone) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf("\r\n\r\n");
    if (end < 0) return;
    headersDone = true;
    let status = 200;
    for (const line of head.subarray(0, end).toString("latin1").split("\r\n")) {
      const i = line.indexOf(":");
      if (i < 0) continue;
      const name = line.slice(0, i).trim();
      const value = line.slice(i + 1).trim();
      if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
      else res.setHeader(name, value);
    }
    res.writeHead(status);
    res.write(head.subarray(end + 4));
  });
  child.stdout.on("end", () => res.end());
  child.on("error", () => {
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
}

export async function startGitHttpServer(options: GitHttpServerOptions): Promise<GitHttpServer> {
  const requests: GitHttpServer["requests"] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const ok = authorized(req, options);
    requests.push({ method: req.method ?? "", path: req.url ?? "", authorized: ok });
    if (options.tls?.requireClientCert && !(req.socket as TLSSocket).authorized) {
      res.writeHead(403).end("client certificate required\n");
      return;
    }
    if (!ok) {
      const challenge = options.bearerToken ? "Bearer" : 'Basic realm="capstan-test"';
      res.writeHead(401, { "www-authenticate": challenge }).end("unauthorized\n");
      return;
    }
    runBackend(req, res, options);
  };
  const server = options.tls
    ? createHttpsServer(
        {
          cert: options.tls.cert,
          key: options.tls.key,
          ...(options.tls.ca ? { ca: options.tls.ca } : {}),
          requestCert: options.tls.requireClientCert ?? false,
          rejectUnauthorized: false,
        },
        handler,
      )
    : createHttpServer(handler);
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
