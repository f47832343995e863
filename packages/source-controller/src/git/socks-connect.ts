// (Capstan) ssh's ProxyCommand for a SOCKS5 proxy (the ALL_PROXY Flux documents for Git over SSH): connects to the
// proxy in CAPSTAN_SOCKS_PROXY (socks5://[user:password@]host:port; in the env, never in argv), asks it to CONNECT to
// the host and port ssh gives as arguments (the name is resolved by the proxy), then relays stdin and stdout. Only
// node: built-ins and no TypeScript-only syntax, so Node runs this file as it is in tests and compiled in the image.
import { connect } from "node:net";

const fail = (message: string): never => {
  process.stderr.write(`socks5 proxy: ${message}\n`);
  process.exit(1);
};

const [host, portText] = process.argv.slice(2);
const port = Number(portText);
if (!host || !Number.isInteger(port) || port < 1 || port > 65535) fail("usage: socks-connect <host> <port>");
let proxy: URL;
try {
  proxy = new URL(process.env.CAPSTAN_SOCKS_PROXY ?? "");
} catch {
  proxy = fail("no proxy address in CAPSTAN_SOCKS_PROXY");
}
const username = decodeURIComponent(proxy.username);
const password = decodeURIComponent(proxy.password);
const socket = connect({ host: proxy.hostname.replace(/^\[|\]$/g, ""), port: Number(proxy.port || 1080) });
socket.on("error", (err: NodeJS.ErrnoException) => fail(`cannot reach the proxy (${err.code ?? err.message})`));

let buffered = Buffer.alloc(0);
let waiting: { n: number; ok: (b: Buffer) => void } | undefined;
const pump = () => {
  if (waiting && buffered.length >= waiting.n) {
    const out = buffered.subarray(0, waiting.n);
    buffered = buffered.subarray(waiting.n);
    const w = waiting;
    waiting = undefined;
    w.ok(out);
  }
};
const onData = (d: Buffer) => {
  buffered = Buffer.concat([buffered, d]);
  pump();
};
socket.on("data", onData);
socket.on("end", () => {
  if (waiting) fail("the proxy closed the connection");
});
const read = (n: number) =>
  new Promise<Buffer>((ok) => {
    waiting = { n, ok };
    pump();
  });

async function handshake(): Promise<void> {
  const withLogin = username !== "" || password !== "";
  socket.write(Buffer.from(withLogin ? [5, 2, 0, 2] : [5, 1, 0]));
  const [version, method] = await read(2);
  if (version !== 5) fail("not a SOCKS5 proxy");
  if (method === 2) {
    const u = Buffer.from(username);
    const p = Buffer.from(password);
    if (u.length > 255 || p.length > 255) fail("proxy username or password longer than 255 bytes");
    socket.write(Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]));
    const [, status] = await read(2);
    if (status !== 0) fail("the proxy refused the username and password");
  } else if (method !== 0) {
    fail(withLogin ? "the proxy accepts none of the offered logins" : "the proxy requires a login");
  }
  const name = Buffer.from(host ?? "");
  if (name.length > 255) fail("host name longer than 255 bytes");
  const portBytes = Buffer.alloc(2);
  portBytes.writeUInt16BE(port);
  socket.write(Buffer.concat([Buffer.from([5, 1, 0, 3, name.length]), name, portBytes]));
  const [, reply, , atyp] = await read(4);
  if (reply !== 0) fail(`the proxy could not connect to ${host}:${port} (SOCKS reply ${reply})`);
  const addressLength = atyp === 1 ? 4 : atyp === 4 ? 16 : ((await read(1))[0] ?? 0);
  await read(addressLength + 2);
}

handshake().then(
  () => {
    socket.off("data", onData);
    if (buffered.length) process.stdout.write(buffered);
    process.stdin.pipe(socket);
    socket.pipe(process.stdout);
    socket.on("close", () => process.exit(0));
  },
  (err: Error) => fail(err.message),
);
