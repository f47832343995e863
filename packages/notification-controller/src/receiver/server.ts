// The Receiver HTTP server (--receiver-addr): reads at most the body cap, hands the request to the handler, writes
// only a status code (bodies would help an attacker probe paths and tokens).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
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
  /**
   * How many body bytes all requests in flight may hold together (32 MiB by default, about ten full bodies). A request
   * that would go over is answered 503 with Retry-After: a flood of large bodies costs this much memory at most,
   * while slow clients that hold few bytes do not lock others out.
   */
  maxBufferedBytes?: number;
}

export const defaultMaxBufferedBytes = 32 * 1024 * 1024;

/** The receiver's shared byte budget: what the requests in flight hold of their bodies. */
export class ByteBudget {
  private used = 0;
  constructor(readonly limit: number) {}
  fits(n: number): boolean {
    return this.used + n <= this.limit;
  }
  take(n: number): boolean {
    if (!this.fits(n)) return false;
    this.used += n;
    return true;
  }
  release(n: number): void {
    this.used -= n;
  }
  get held(): number {
    return this.used;
  }
}

export interface ReceiverServer {
  readonly server: Server;
  /** host:port actually bound (port 0 resolved). */
  address(): string;
  /** Body bytes the requests in flight hold now, out of maxBufferedBytes. */
  bufferedBytes(): number;
  close(): Promise<void>;
}

/**
 * Reads at most `max` body bytes, each taken from `budget` (when given) as it arrives. Past the cap or the budget the
 * rest is drained without keeping it, so the client sees our answer rather than a reset. The caller releases `held`.
 */
export async function readCapped(
  req: IncomingMessage,
  max: number,
  budget?: ByteBudget,
): Promise<{ body: Buffer; tooLarge: boolean; overBudget: boolean; held: number }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let held = 0;
  let tooLarge = false;
  let overBudget = false;
  try {
    for await (const chunk of req) {
      const buf = chunk as Buffer;
      if (tooLarge || overBudget) continue;
      size += buf.length;
      if (size > max) {
        tooLarge = true;
      } else if (budget && !budget.take(buf.length)) {
        overBudget = true;
      } else {
        held += buf.length;
        chunks.push(buf);
        continue;
      }
      chunks.length = 0;
      budget?.release(held);
      held = 0;
    }
  } catch (err) {
    budget?.release(held);
    throw err;
  }
  return { body: Buffer.concat(chunks), tooLarge, overBudget, held };
}

export async function startReceiverServer(
  listen: { host: string; port: number },
  options: ReceiverServerOptions,
): Promise<ReceiverServer> {
  const max = options.maxBodyBytes ?? defaultMaxBodyBytes;
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const budget = new ByteBudget(options.maxBufferedBytes ?? defaultMaxBufferedBytes);
  // Node checks request timeouts every connectionsCheckingInterval (30 s by default), which would double how long a
  // slowloris client holds a connection: check at least every second.
  const connectionsCheckingInterval = Math.max(50, Math.min(1_000, Math.floor(requestTimeout / 4)));
  const busy = (path: string, res: ServerResponse) => {
    res.setHeader("connection", "close");
    res.setHeader("retry-after", "1");
    res.writeHead(503).end();
    options.onRequest?.(path, {
      status: 503,
      detail: "the bodies in flight hold the receiver's byte budget; retry later",
    });
  };
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
      const tooLargeDeclared = Number.isFinite(declared) && declared > max;
      // A body that would not fit in what the requests in flight leave of the budget is refused before it is read.
      if (!tooLargeDeclared && Number.isFinite(declared) && !budget.fits(declared)) {
        busy(path, res);
        return;
      }
      let read: Awaited<ReturnType<typeof readCapped>> = {
        body: Buffer.alloc(0),
        tooLarge: tooLargeDeclared,
        overBudget: false,
        held: 0,
      };
      if (!tooLargeDeclared) {
        // Node's requestTimeout drops clients that trickle, but not one that sends part of its body and then nothing:
        // that body would hold its bytes of the budget for good. The deadline here ends it too.
        const deadline = setTimeout(() => req.destroy(), requestTimeout);
        try {
          read = await readCapped(req, max, budget);
        } finally {
          clearTimeout(deadline);
        }
      }
      try {
        if (read.overBudget) {
          busy(path, res);
          return;
        }
        const incoming: IncomingRequest = { path, headers: req.headers, body: read.body, bodyTooLarge: read.tooLarge };
        const result = await handleReceiverRequest(incoming, options.backend, options);
        options.onRequest?.(path, result);
        // A declared oversize body was never read: close the connection rather than read megabytes to keep it alive.
        if (read.tooLarge) res.setHeader("connection", "close");
        res.writeHead(result.status).end();
      } finally {
        budget.release(read.held);
      }
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
    bufferedBytes: () => budget.held,
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
