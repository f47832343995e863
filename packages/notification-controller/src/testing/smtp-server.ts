// A tiny scripted SMTP server on loopback for the smtp Provider's tests: EHLO/HELO, STARTTLS, AUTH PLAIN and LOGIN,
// MAIL, RCPT, DATA, QUIT. It records every command line and the raw DATA lines (still dot-stuffed).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer as createTlsServer, TLSSocket } from "node:tls";

export interface TestCert {
  key: string;
  cert: string;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made with the openssl binary (it is its own CA). */
export function selfSignedCert(): TestCert {
  const dir = mkdtempSync(join(tmpdir(), "capstan-smtp-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "key.pem",
        "-out",
        "cert.pem",
        "-days",
        "2",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
      ],
      { cwd: dir, stdio: "ignore" },
    );
    return { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface SmtpServerOptions {
  /** Offer STARTTLS with this certificate. */
  starttls?: TestCert;
  /** TLS from the first byte (smtps). */
  implicitTls?: TestCert;
  auth?: ("PLAIN" | "LOGIN")[];
  credentials?: { username: string; password: string };
  /** Replace the reply to a command (by its verb, e.g. "RCPT"), e.g. "550 5.1.1 no such user". */
  replies?: Record<string, string>;
  /** Accept connections and never say a word. */
  silent?: boolean;
  /** Listen on this host (default 127.0.0.1). */
  host?: string;
}

export interface ReceivedMail {
  /** Command lines as received (AUTH payload lines included). */
  commands: string[];
  /** Whether the connection was TLS when each command arrived. */
  secureAt: boolean[];
  /** The DATA lines as sent, dot-stuffing and all. */
  rawData: string[];
  authenticated?: { username: string; password: string };
}

export interface TestSmtpServer {
  port: number;
  sessions: ReceivedMail[];
  close(): Promise<void>;
}

export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  const sessions: ReceivedMail[] = [];
  const sockets = new Set<Socket>();
  const onConnection = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    if (options.silent) return;
    const mail: ReceivedMail = { commands: [], secureAt: [], rawData: [] };
    sessions.push(mail);
    serve(socket, mail, options);
  };
  const server: Server = options.implicitTls
    ? createTlsServer({ key: options.implicitTls.key, cert: options.implicitTls.cert }, onConnection)
    : createServer(onConnection);
  await new Promise<void>((r) => server.listen(0, options.host ?? "127.0.0.1", r));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    sessions,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

function serve(initial: Socket, mail: ReceivedMail, options: SmtpServerOptions): void {
  let socket: Socket = initial;
  let buffer = "";
  let inData = false;
  let login: { step: "user" | "pass"; username?: string } | undefined;
  const reply = (verb: string, text: string) => socket.write(`${options.replies?.[verb] ?? text}\r\n`);
  const auth = (username: string, password: string) => {
    const ok = options.credentials?.username === username && options.credentials.password === password;
    if (ok) mail.authenticated = { username, password };
    reply("AUTH", ok ? "235 2.7.0 Authentication successful" : `535 5.7.8 Authentication failed for ${password}`);
  };
  const ehlo = () => {
    const ext = ["250-test.local greets you", "250-8BITMIME"];
    if (options.starttls && !(socket instanceof TLSSocket)) ext.push("250-STARTTLS");
    if (options.auth?.length) ext.push(`250-AUTH ${options.auth.join(" ")}`);
    ext.push("250 SIZE 10240000");
    if (options.replies?.EHLO) reply("EHLO", "");
    else socket.write(`${ext.join("\r\n")}\r\n`);
  };
  const line = (text: string) => {
    if (inData) {
      if (text === ".") {
        inData = false;
        reply("END", "250 2.0.0 Ok: queued as 1");
      } else mail.rawData.push(text);
      return;
    }
    mail.commands.push(text);
    mail.secureAt.push(socket instanceof TLSSocket);
    if (login) {
      const value = Buffer.from(text, "base64").toString("utf8");
      if (login.step === "user") {
        login = { step: "pass", username: value };
        socket.write("334 UGFzc3dvcmQ6\r\n");
      } else {
        const username = login.username ?? "";
        login = undefined;
        auth(username, value);
      }
      return;
    }
    const verb = (text.split(" ")[0] ?? "").toUpperCase();
    switch (verb) {
      case "EHLO":
        return ehlo();
      case "HELO":
        return reply("HELO", "250 test.local");
      case "STARTTLS": {
        reply("STARTTLS", "220 2.0.0 Ready to start TLS");
        if (options.replies?.STARTTLS) return;
        const cert = options.starttls as TestCert;
        initial.removeAllListeners("data");
        const secure = new TLSSocket(initial, { isServer: true, key: cert.key, cert: cert.cert });
        secure.on("error", () => undefined);
        socket = secure;
        secure.on("data", onData);
        return;
      }
      case "AUTH": {
        const [, mech, initialResponse] = text.split(" ");
        if (mech === "PLAIN" && initialResponse) {
          const [, user, pass] = Buffer.from(initialResponse, "base64").toString("utf8").split("\u0000");
          return auth(user ?? "", pass ?? "");
        }
        if (mech === "LOGIN") {
          login = { step: "user" };
          return socket.write("334 VXNlcm5hbWU6\r\n");
        }
        return reply("AUTH", "504 5.5.4 Unrecognized authentication type");
      }
      case "MAIL":
        return reply("MAIL", "250 2.1.0 Ok");
      case "RCPT":
        return reply("RCPT", "250 2.1.5 Ok");
      case "DATA":
        inData = !options.replies?.DATA;
        return reply("DATA", "354 End data with <CR><LF>.<CR><LF>");
      case "QUIT":
        reply("QUIT", "221 2.0.0 Bye");
        socket.end();
        return;
      default:
        return reply("UNKNOWN", "502 5.5.2 Error: command not recognized");
    }
  };
  const onData = (chunk: Buffer) => {
    buffer += chunk.toString("utf8");
    for (;;) {
      const end = buffer.indexOf("\r\n");
      if (end < 0) return;
      const text = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      line(text);
    }
  };
  socket.on("data", onData);
  socket.write("220 test.local ESMTP ready\r\n");
}
