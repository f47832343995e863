// A small SMTP client (RFC 5321) over node:net / node:tls for the `smtp` Provider: EHLO, STARTTLS, AUTH PLAIN or
// LOGIN, MAIL FROM, RCPT TO, DATA with dot-stuffing, QUIT. Every step runs under one deadline, replies are bounded in
// size, and nothing the server says is trusted to be short. Credentials never appear in an error: failures name the
// command and the server's reply code and text, never what was sent.
import { isIP, type Socket, connect as tcpConnect } from "node:net";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { DeliveryError } from "./http.js";

export interface SmtpOptions {
  host: string;
  port: number;
  /** smtps://: TLS from the first byte (port 465). Otherwise STARTTLS whenever the server offers it. */
  implicitTls: boolean;
  caCert?: string;
  username?: string;
  password?: string;
  /** The EHLO name. */
  clientName: string;
  timeoutMs: number;
}

export interface SmtpEnvelope {
  from: string;
  recipients: string[];
  /** The message with CRLF line ends, headers and body, not yet dot-stuffed. */
  data: string;
}

interface Reply {
  code: number;
  lines: string[];
}

const maxReplyBytes = 64 * 1024;
const maxReplyLines = 200;

/** SMTP failures: 4xx replies and network trouble are worth a retry, 5xx replies are not. */
export class SmtpError extends DeliveryError {}

function loopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\./.test(host);
}

class Connection {
  #socket: Socket | TLSSocket;
  #buffer = "";
  #lines: string[] = [];
  #bytes = 0;
  #replies: Reply[] = [];
  #waiter: { resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;
  #failure: Error | undefined;
  readonly #onData = (chunk: Buffer) => this.#receive(chunk);
  readonly #onError = (err: Error) => this.#fail(new SmtpError(`${this.where}: ${networkReason(err)}`, true));
  readonly #onClose = () => this.#fail(new SmtpError(`${this.where}: connection closed by the server`, true));

  constructor(
    socket: Socket | TLSSocket,
    readonly where: string,
  ) {
    this.#socket = socket;
    this.#attach(socket);
  }

  #attach(socket: Socket | TLSSocket): void {
    socket.on("data", this.#onData);
    socket.on("error", this.#onError);
    socket.on("close", this.#onClose);
  }

  #detach(socket: Socket | TLSSocket): void {
    socket.off("data", this.#onData);
    socket.off("error", this.#onError);
    socket.off("close", this.#onClose);
  }

  #receive(chunk: Buffer): void {
    this.#bytes += chunk.length;
    this.#buffer += chunk.toString("latin1");
    if (this.#bytes > maxReplyBytes || this.#buffer.length > maxReplyBytes) {
      this.#fail(new SmtpError(`${this.where}: reply larger than ${maxReplyBytes} bytes`, false));
      return;
    }
    for (;;) {
      const end = this.#buffer.indexOf("\n");
      if (end < 0) break;
      const line = this.#buffer.slice(0, end).replace(/\r$/, "");
      this.#buffer = this.#buffer.slice(end + 1);
      const m = /^(\d{3})([ -]?)(.*)$/.exec(line);
      if (!m) {
        this.#fail(new SmtpError(`${this.where}: malformed reply`, false));
        return;
      }
      this.#lines.push(m[3] as string);
      if (this.#lines.length > maxReplyLines) {
        this.#fail(new SmtpError(`${this.where}: reply longer than ${maxReplyLines} lines`, false));
        return;
      }
      if (m[2] === "-") continue;
      this.#replies.push({ code: Number(m[1]), lines: this.#lines });
      this.#lines = [];
      this.#bytes = Buffer.byteLength(this.#buffer, "latin1");
    }
    this.#deliver();
  }

  #deliver(): void {
    if (!this.#waiter) return;
    const next = this.#replies.shift();
    if (next) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w.resolve(next);
    } else if (this.#failure) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w.reject(this.#failure);
    }
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    this.#socket.destroy();
    this.#deliver();
  }

  abort(err: Error): void {
    this.#fail(err);
  }

  read(): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      this.#waiter = { resolve, reject };
      this.#deliver();
    });
  }

  write(text: string): void {
    if (!this.#failure) this.#socket.write(text, "utf8");
  }

  /** Hands the socket to TLS. Anything the server sent after its 220 is an injection attempt (CVE-2011-0411 class). */
  async upgrade(options: { host: string; caCert?: string }): Promise<void> {
    if (this.#buffer.length > 0 || this.#replies.length > 0) {
      this.#fail(new SmtpError(`${this.where}: data received before the TLS handshake`, false));
      throw this.#failure;
    }
    const plain = this.#socket;
    this.#detach(plain);
    const secure = tlsConnect({
      socket: plain as Socket,
      ...(isIP(options.host) ? {} : { servername: options.host }),
      ...(options.caCert ? { ca: options.caCert } : {}),
    });
    this.#socket = secure;
    // The server says nothing until our next EHLO, so listening for replies can wait for the handshake.
    await new Promise<void>((resolve, reject) => {
      secure.once("secureConnect", () => resolve());
      secure.once("error", reject);
      secure.once("close", () => reject(new Error("connection closed")));
    }).catch((err: Error) => {
      secure.on("error", () => undefined);
      this.#fail(new SmtpError(`${this.where}: TLS handshake failed: ${networkReason(err)}`, true));
      throw this.#failure;
    });
    this.#attach(secure);
  }

  get secure(): boolean {
    return "encrypted" in this.#socket && this.#socket.encrypted === true;
  }

  close(): void {
    this.#detach(this.#socket);
    this.#socket.on("error", () => undefined);
    this.#socket.destroy();
  }
}

function networkReason(err: unknown): string {
  const code = (err as { code?: string }).code;
  return code ? `network error (${code})` : "network error";
}

/** Quotes the server's text for an error: one line, printable, at most 200 characters. */
function serverText(reply: Reply): string {
  return reply.lines
    .join(" ")
    .replace(/[^\x20-\x7e]/g, "?")
    .slice(0, 200);
}

function expect(where: string, command: string, reply: Reply, ...codes: number[]): Reply {
  if (codes.includes(reply.code)) return reply;
  // 4xx is transient by definition (RFC 5321 §4.2.1); 5xx is permanent.
  const retryable = reply.code >= 400 && reply.code < 500;
  throw new SmtpError(
    `${where}: ${command} failed: ${reply.code} ${serverText(reply)}`.trimEnd(),
    retryable,
    reply.code,
  );
}

/** RFC 5321 §4.5.2: a line that starts with a dot gets one more. */
export function dotStuff(data: string): string {
  const normalised = data.replace(/\r?\n/g, "\r\n");
  const stuffed = normalised.replace(/(^|\r\n)\./g, "$1..");
  return stuffed.endsWith("\r\n") ? stuffed : `${stuffed}\r\n`;
}

function extensions(reply: Reply): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of reply.lines.slice(1)) {
    const [name, ...rest] = line.trim().split(/\s+/);
    if (name) out.set(name.toUpperCase(), rest.join(" ").toUpperCase());
  }
  return out;
}

async function hello(conn: Connection, name: string): Promise<Map<string, string>> {
  conn.write(`EHLO ${name}\r\n`);
  const reply = await conn.read();
  if (reply.code === 250) return extensions(reply);
  // A server that does not speak ESMTP: no extensions, so no STARTTLS and no AUTH.
  conn.write(`HELO ${name}\r\n`);
  expect(conn.where, "HELO", await conn.read(), 250);
  return new Map();
}

async function authenticate(conn: Connection, ext: Map<string, string>, username: string, password: string) {
  const mechanisms = (ext.get("AUTH") ?? "").split(/\s+/);
  const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
  if (mechanisms.includes("PLAIN")) {
    conn.write(`AUTH PLAIN ${b64(`\u0000${username}\u0000${password}`)}\r\n`);
    expect(conn.where, "AUTH PLAIN", await conn.read(), 235);
    return;
  }
  if (mechanisms.includes("LOGIN")) {
    conn.write("AUTH LOGIN\r\n");
    expect(conn.where, "AUTH LOGIN", await conn.read(), 334);
    conn.write(`${b64(username)}\r\n`);
    expect(conn.where, "AUTH LOGIN", await conn.read(), 334);
    conn.write(`${b64(password)}\r\n`);
    expect(conn.where, "AUTH LOGIN", await conn.read(), 235);
    return;
  }
  throw new SmtpError(`${conn.where}: the server offers neither AUTH PLAIN nor AUTH LOGIN`, false);
}

function open(options: SmtpOptions, signal: AbortSignal, abortError: () => Error): Promise<Socket | TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = options.implicitTls
      ? tlsConnect({
          host: options.host,
          port: options.port,
          ...(isIP(options.host) ? {} : { servername: options.host }),
          ...(options.caCert ? { ca: options.caCert } : {}),
        })
      : tcpConnect({ host: options.host, port: options.port });
    const onAbort = () => {
      socket.destroy();
      reject(abortError());
    };
    const onError = (err: Error) => {
      signal.removeEventListener("abort", onAbort);
      reject(new SmtpError(`smtp ${options.host}:${options.port}: ${networkReason(err)}`, true));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("error", onError);
    socket.once(options.implicitTls ? "secureConnect" : "connect", () => {
      signal.removeEventListener("abort", onAbort);
      socket.off("error", onError);
      resolve(socket);
    });
  });
}

/** Sends one message; resolves once the server accepted it (250 after DATA). */
export async function sendMail(options: SmtpOptions, envelope: SmtpEnvelope, signal?: AbortSignal): Promise<void> {
  const where = `smtp ${options.host}:${options.port}`;
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const combined = signal ? AbortSignal.any([signal, deadline]) : deadline;
  const abortError = () =>
    deadline.aborted
      ? new SmtpError(`${where}: timed out after ${options.timeoutMs}ms`, true)
      : new SmtpError(`${where}: cancelled`, false);
  if (combined.aborted) throw abortError();

  let conn: Connection | undefined;
  const onAbort = () => conn?.abort(abortError());
  combined.addEventListener("abort", onAbort, { once: true });
  try {
    conn = new Connection(await open(options, combined, abortError), where);
    if (combined.aborted) conn.abort(abortError());
    expect(where, "greeting", await conn.read(), 220);
    let ext = await hello(conn, options.clientName);
    if (!options.implicitTls && ext.has("STARTTLS")) {
      conn.write("STARTTLS\r\n");
      expect(where, "STARTTLS", await conn.read(), 220);
      await conn.upgrade({ host: options.host, ...(options.caCert ? { caCert: options.caCert } : {}) });
      ext = await hello(conn, options.clientName);
    }
    if (options.username && options.password) {
      if (!conn.secure && !loopback(options.host)) {
        throw new SmtpError(
          `${where}: refusing to send credentials over a connection without TLS (the server does not offer STARTTLS)`,
          false,
        );
      }
      await authenticate(conn, ext, options.username, options.password);
    }
    conn.write(`MAIL FROM:<${envelope.from}>\r\n`);
    expect(where, "MAIL FROM", await conn.read(), 250);
    for (const rcpt of envelope.recipients) {
      conn.write(`RCPT TO:<${rcpt}>\r\n`);
      expect(where, "RCPT TO", await conn.read(), 250, 251);
    }
    conn.write("DATA\r\n");
    expect(where, "DATA", await conn.read(), 354);
    conn.write(`${dotStuff(envelope.data)}.\r\n`);
    expect(where, "end of DATA", await conn.read(), 250);
    // The message is accepted; QUIT is a courtesy whose answer does not matter.
    conn.write("QUIT\r\n");
    await Promise.race([conn.read().catch(() => undefined), new Promise((r) => setTimeout(r, 1_000).unref())]);
  } finally {
    combined.removeEventListener("abort", onAbort);
    conn?.close();
  }
}
