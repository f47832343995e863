// A real HTTP server on loopback that records what it receives and answers from a script, for provider and receiver
// tests.
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Responder = (
  req: Recorded,
  index: number,
) => { status: number; headers?: Record<string, string>; body?: string };

export interface RecorderServer {
  url: string;
  requests: Recorded[];
  respond: Responder;
  close(): Promise<void>;
}

export async function startRecorder(respond: Responder = () => ({ status: 200 })): Promise<RecorderServer> {
  const state: RecorderServer = { url: "", requests: [], respond, close: async () => undefined };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rec: Recorded = {
      method: req.method ?? "",
      path: req.url ?? "",
      headers: req.headers,
      body: Buffer.concat(chunks).toString("utf8"),
    };
    const index = state.requests.length;
    state.requests.push(rec);
    const answer = state.respond(rec, index);
    res.writeHead(answer.status, answer.headers ?? {}).end(answer.body ?? "");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  return state;
}
