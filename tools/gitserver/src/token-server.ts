// A token service for the distribution registry's `auth: token` mode, as Docker Hub, Harbor or GitLab run one: the
// registry answers 401 with `WWW-Authenticate: Bearer realm=<this>,service=...,scope=repository:<name>:pull`, the
// client asks here with its credentials as basic auth (GET, or the OAuth2 password grant as a POST form), and gets a
// JWT the registry trusts: ES256, signed by a throwaway key whose self-signed certificate is the registry's
// rootcertbundle and travels in the `x5c` header. Known accounts get every action they ask for on every repository;
// anonymous requests get a token with no access (as Docker's services answer them); wrong credentials get 401.
//
// For the hostile-peer tests, a repository whose first path segment names a behaviour gets it instead of a token:
// `hostile-stall` (never answers), `hostile-slow` (a body trickling one byte per half second, forever),
// `hostile-huge` (an endless body), `hostile-hugetoken` (a complete answer whose token is 256 KiB),
// `hostile-badtoken` (a token with a line break in it). Every request is recorded, with how it ended.
import { createSign, X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import type { TestPki } from "./tls.js";

export interface TokenServerOptions {
  /** Serve HTTPS with this PKI's server certificate (127.0.0.1 and localhost); plain HTTP without. */
  pki?: TestPki;
  /** Accounts that get tokens (default: registryCredentials, passed in by startRegistry). */
  accounts: readonly { username: string; password: string }[];
  service?: string;
  issuer?: string;
  /** expires_in of the tokens, in seconds (default 300). */
  expiresIn?: number;
}

export interface TokenRequest {
  method: string;
  /** The basic-auth user name, "" when anonymous (never the password). */
  user: string;
  /** Whether the request carried a password (for the tests that check where credentials went). */
  withPassword: boolean;
  scopes: string[];
  /** 200, 401, or the hostile behaviour served. */
  outcome: number | string;
  /** True once the connection is gone (the client gave up, or the answer was sent). */
  closed: boolean;
}

export interface TokenServer {
  /** https://127.0.0.1:<port>/token (or http://). */
  realm: string;
  port: number;
  service: string;
  issuer: string;
  /** PEM of the certificate whose key signs the tokens: the registry's rootcertbundle. */
  signerCert: Buffer;
  /** Every request so far, oldest first. */
  readonly requests: TokenRequest[];
  /** Drops every open connection (a stalled answer ends for the client as a reset). */
  hangUp(): void;
  close(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

function parseScopes(values: string[]): { type: string; name: string; actions: string[] }[] {
  const out: { type: string; name: string; actions: string[] }[] = [];
  for (const v of values.flatMap((s) => s.split(" ")).filter(Boolean)) {
    const parts = v.split(":");
    if (parts.length < 3) continue;
    const actions = (parts.pop() ?? "").split(",").filter(Boolean);
    const type = parts.shift() ?? "";
    out.push({ type, name: parts.join(":"), actions });
  }
  return out;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = "";
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > 64 * 1024) break;
  }
  return new URLSearchParams(body);
}

/** Who asks and for what: basic auth and query scopes, or the OAuth2 password grant's form. */
async function readRequest(req: IncomingMessage): Promise<{ user: string; password?: string; scopes: string[] }> {
  const url = new URL(req.url ?? "/", "http://token");
  let user = "";
  let password: string | undefined;
  let scopes = url.searchParams.getAll("scope");
  const auth = req.headers.authorization ?? "";
  if (auth.startsWith("Basic ")) {
    const decoded = Buffer.from(auth.slice(6), "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    user = colon < 0 ? decoded : decoded.slice(0, colon);
    password = colon < 0 ? "" : decoded.slice(colon + 1);
  }
  if (req.method === "POST") {
    const form = await readForm(req);
    if (form.get("grant_type") === "password") {
      user = form.get("username") ?? "";
      password = form.get("password") ?? "";
    }
    scopes = (form.get("scope") ?? "").split(" ").filter(Boolean);
  }
  return { user, ...(password === undefined ? {} : { password }), scopes };
}

export async function startTokenServer(o: TokenServerOptions): Promise<TokenServer> {
  const dir = await mkdtemp(join(tmpdir(), "capstan-token-"));
  let signerKey: Buffer;
  let signerCert: Buffer;
  try {
    await execa(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"].concat([
        "-keyout",
        "signer.key",
        "-out",
        "signer.crt",
        "-subj",
        "/CN=capstan-token-signer",
        "-days",
        "2",
      ]),
      { cwd: dir, stdin: "ignore" },
    );
    signerKey = await readFile(join(dir, "signer.key"));
    signerCert = await readFile(join(dir, "signer.crt"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const x5c = new X509Certificate(signerCert).raw.toString("base64");
  const service = o.service ?? "capstan-registry";
  const issuer = o.issuer ?? "capstan-token-service";
  const expiresIn = o.expiresIn ?? 300;
  const requests: TokenRequest[] = [];
  const sockets = new Set<import("node:net").Socket>();

  const sign = (subject: string, access: { type: string; name: string; actions: string[] }[]) => {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: "ES256", typ: "JWT", x5c: [x5c] }));
    const claims = b64url(
      JSON.stringify({
        iss: issuer,
        sub: subject,
        aud: service,
        exp: now + expiresIn,
        nbf: now - 10,
        iat: now,
        jti: `${now}-${requests.length}`,
        access,
      }),
    );
    const signer = createSign("sha256");
    signer.update(`${header}.${claims}`);
    const signature = signer.sign({ key: signerKey, dsaEncoding: "ieee-p1363" });
    return `${header}.${claims}.${b64url(signature)}`;
  };

  const hostile = (behaviour: string, res: ServerResponse) => {
    switch (behaviour) {
      case "hostile-stall":
        return; // headers never come
      case "hostile-slow": {
        res.writeHead(200, { "content-type": "application/json" });
        res.write('{"token":"');
        const t = setInterval(() => res.write("a"), 500);
        res.on("close", () => clearInterval(t));
        return;
      }
      case "hostile-huge": {
        res.writeHead(200, { "content-type": "application/json" });
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        const pump = () => {
          while (!res.destroyed && res.write(chunk)) {
            /* until the socket pushes back */
          }
        };
        res.on("drain", pump);
        pump();
        return;
      }
      case "hostile-hugetoken": {
        const body = JSON.stringify({ token: "a".repeat(256 * 1024), expires_in: 300 });
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      case "hostile-badtoken":
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ token: "abc\r\nx-injected: 1", expires_in: 300 }));
        return;
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const { user, password, scopes } = await readRequest(req);
    const record: TokenRequest = {
      method: req.method ?? "",
      user,
      withPassword: password !== undefined,
      scopes,
      outcome: 0,
      closed: false,
    };
    requests.push(record);
    res.on("close", () => {
      record.closed = true;
    });
    const access = parseScopes(scopes);
    const behaviour = access.map((a) => a.name.split("/")[0] ?? "").find((n) => n.startsWith("hostile-"));
    if (behaviour) {
      record.outcome = behaviour;
      hostile(behaviour, res);
      return;
    }
    const known = o.accounts.some((a) => a.username === user && a.password === password);
    if (password !== undefined && !known) {
      record.outcome = 401;
      res.writeHead(401, { "content-type": "application/json", "www-authenticate": 'Basic realm="capstan-token"' });
      res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "invalid username or password" }] }));
      return;
    }
    record.outcome = 200;
    const token = sign(known ? user : "", known ? access : []);
    const body = JSON.stringify({
      token,
      access_token: token,
      expires_in: expiresIn,
      issued_at: new Date().toISOString(),
    });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(body);
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(() => res.destroy());
  };
  const server: Server = o.pki
    ? createHttpsServer({ cert: o.pki.serverCert, key: o.pki.serverKey }, listener)
    : createHttpServer(listener);
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `${o.pki ? "https" : "http"}://127.0.0.1:${port}/token`,
    port,
    service,
    issuer,
    signerCert,
    requests,
    hangUp: () => {
      for (const s of sockets) s.destroy();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
