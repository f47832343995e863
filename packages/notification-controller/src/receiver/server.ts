// The Receiver HTTP server (--receiver-addr): reads at most the body cap, hands the request to the handler, writes
// only a status code (bodies would help an attacker probe paths and tokens).
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  defaultMaxBodyBytes,
  type HandlerOptions,
  type HandlerResult,
  handleReceiverRequest,
  type IncomingRequest,
  type ReceiverBackend,
} from "./handler.js";
import { ReceiverWebhookPath } from "./webhook-path.js";

export interface ReceiverServerOptions extends HandlerOptions {
  backend: ReceiverBackend;
  onRequest?: (path: string, result: HandlerResult) => void;
  /** How long one request (headers and body) may take before its connection is dropped; 30 s by default. */
  requestTimeoutMs?: number;
}

export interface ReceiverServer {
  readonly server: Server;
  /** host:port actually bound (port 0 resolved). */
  address(): string;
  close(): Promise<void>;
}

export async function readCapped(req: IncomingMessage, max: number): Promise<{ body: Buffer; tooLarge: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    if (tooLarge) continue; // drain without keeping, so the client sees our answer rather than a reset
    size += buf.length;
    if (size > max) {
      tooLarge = true;
      chunks.length = 0;
      continue;
    }
    chunks.push(buf);
  }
  return { body: Buffer.concat(chunks), tooLarge };
}

export async function startReceiverServer(
  listen: { host: string; port: number },
  options: ReceiverServerOptions,
): Promise<ReceiverServer> {
  const max = options.maxBodyBytes ?? defaultMaxBodyBytes;
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  // Node checks request timeouts every connectionsCheckingInterval (30 s by default), which would double how long a
  // slowloris client holds a connection: check at least every second.
  const connectionsCheckingInterval = Math.max(50, Math.min(1_000, Math.floor(requestTimeout / 4)));
  const server = createServer({ connectionsCheckingInterval }, async (req, res) => {
    const path = (req.url ?? "/").split("?")[0] as string;
    if (!path.startsWith(ReceiverWebhookPath)) {
      res.writeHead(404).end();
      return;
    }
    try {
      // An unknown path is answered before its body is read (and the connection closed): whoever guesses paths spends
      // no memory of ours on bodies. The lookup is in the Receiver cache, so it costs no API call either.
      if ((await options.backend.findByPath(path).catch(() => null)) === undefined) {
        res.setHeader("connection", "close");
        res.writeHead(404).end();
        options.onRequest?.(path, { status: 404, detail: "no receiver for this path" });
        return;
      }
      const declared = Number(req.headers["content-length"]);
      let body: Buffer = Buffer.alloc(0);
      let tooLarge = Number.isFinite(declared) && declared > max;
      if (!tooLarge) ({ body, tooLarge } = await readCapped(req, max));
      const incoming: IncomingRequest = { path, headers: req.headers, body, bodyTooLarge: tooLarge };
      const result = await handleReceiverRequest(incoming, options.backend, options);
      options.onRequest?.(path, result);
      // A declared oversize body was never read: close the connection rather than read megabytes to keep it alive.
      if (tooLarge) res.setHeader("connection", "close");
      res.writeHead(result.status).end();
    } catch {
      res.writeHead(500).end();
    }
  });
  // A slowloris client (headers or body a byte at a time) holds a connection at most this long; the headers timeout
  // follows it, so neither half of a request can be stretched past it.
  server.requestTimeout = requestTimeout;
  server.headersTimeout = server.requestTimeout;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    server,
    address() {
      const a = server.address() as AddressInfo;
      return a.family === "IPv6" ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** "host:port", ":port" or "port" as Flux flags take them. */
export function parseListenAddress(addr: string): { host: string; port: number } {
  const m = /^(?:\[?([^\]]*)\]?:)?(\d+)$/.exec(addr.trim());
  if (!m) throw new Error(`invalid listen address "${addr}": want host:port or :port`);
  return { host: m[1] || "0.0.0.0", port: Number(m[2]) };
}
