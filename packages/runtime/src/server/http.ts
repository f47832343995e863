import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parseListenAddress } from "./address.js";

export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface RunningServer {
  /** The bound port (useful with :0). */
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** A plain HTTP server for GET routes by exact path; undefined when the address is "0" (disabled). */
export async function serve(addr: string, routes: Record<string, Route>): Promise<RunningServer | undefined> {
  const listen = parseListenAddress(addr);
  if (!listen) return undefined;
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const route = routes[path];
    if (!route || (req.method !== "GET" && req.method !== "HEAD")) {
      res
        .writeHead(route ? 405 : 404, { "content-type": "text/plain" })
        .end(route ? "method not allowed\n" : "not found\n");
      return;
    }
    Promise.resolve(route(req, res)).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(`internal error: ${(err as Error).message}\n`);
    });
  });
  // Probes and scrapes are short; do not let an idle keep-alive connection hold shutdown.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => reject(new Error(`listen on ${addr}`, { cause: err })));
    server.listen(listen.port, listen.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = listen.host && listen.host !== "0.0.0.0" && listen.host !== "::" ? listen.host : "127.0.0.1";
  return {
    port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
