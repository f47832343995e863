// A real SOCKS5 proxy on loopback (RFC 1928 CONNECT, optional RFC 1929 username/password), recording each request, so
// tests can prove that SSH traffic took it. `hosts` resolves names only this proxy knows.
import { createConnection, createServer, type Socket } from "node:net";

export interface TestSocksProxy {
  /** socks5://127.0.0.1:<port> */
  url: string;
  /** "CONNECT host:port" (allowed), or "LOGIN user" for a refused login. */
  requests: { line: string; allowed: boolean }[];
  close(): Promise<void>;
}

export async function startTestSocksProxy(
  auth?: { username: string; password: string },
  options: { hosts?: Record<string, string> } = {},
): Promise<TestSocksProxy> {
  const requests: TestSocksProxy["requests"] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => client.destroy());
    void serve(client).catch(() => client.destroy());
  });

  // Reads exactly n bytes from the client (the handshake is small; what follows it is piped).
  const reader = (client: Socket) => {
    let buf = Buffer.alloc(0);
    let want: { n: number; ok: (b: Buffer) => void } | undefined;
    const pump = () => {
      if (want && buf.length >= want.n) {
        const out = buf.subarray(0, want.n);
        buf = buf.subarray(want.n);
        const w = want;
        want = undefined;
        w.ok(out);
      }
    };
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      pump();
    };
    client.on("data", onData);
    return {
      read: (n: number) =>
        new Promise<Buffer>((ok) => {
          want = { n, ok };
          pump();
        }),
      release: () => {
        client.off("data", onData);
        return buf;
      },
    };
  };

  async function serve(client: Socket): Promise<void> {
    const r = reader(client);
    const [version, count] = await r.read(2);
    if (version !== 5) return void client.destroy();
    const methods = [...(await r.read(count ?? 0))];
    const method = auth ? 2 : 0;
    if (!methods.includes(method)) {
      client.end(Buffer.from([5, 0xff]));
      return;
    }
    client.write(Buffer.from([5, method]));
    if (auth) {
      const [, ulen] = await r.read(2);
      const user = (await r.read(ulen ?? 0)).toString();
      const [plen] = await r.read(1);
      const pass = (await r.read(plen ?? 0)).toString();
      const allowed = user === auth.username && pass === auth.password;
      client.write(Buffer.from([1, allowed ? 0 : 1]));
      if (!allowed) {
        requests.push({ line: `LOGIN ${user}`, allowed });
        return void client.end();
      }
    }
    const [, cmd, , atyp] = await r.read(4);
    const host = await readAddress(r.read, atyp);
    if (host === undefined) return void client.destroy();
    const port = (await r.read(2)).readUInt16BE(0);
    requests.push({ line: `CONNECT ${host}:${port}`, allowed: true });
    if (cmd !== 1) {
      client.end(Buffer.from([5, 7, 0, 1, 0, 0, 0, 0, 0, 0]));
      return;
    }
    const upstream = createConnection({ host: options.hosts?.[host.toLowerCase()] ?? host, port });
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => {
      client.end(Buffer.from([5, 4, 0, 1, 0, 0, 0, 0, 0, 0])); // host unreachable
    });
    upstream.on("connect", () => {
      client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
      const rest = r.release();
      if (rest.length) upstream.write(rest);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as { port: number };
  return {
    url: `socks5://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  };
}

/** The request's address: IPv4 (1), a name (3) or IPv6 (4); undefined for another type. */
async function readAddress(
  read: (n: number) => Promise<Buffer>,
  atyp: number | undefined,
): Promise<string | undefined> {
  if (atyp === 1) return [...(await read(4))].join(".");
  if (atyp === 3) return (await read((await read(1))[0] ?? 0)).toString();
  if (atyp !== 4) return undefined;
  const b = await read(16);
  return Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16)).join(":");
}
