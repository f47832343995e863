// A local OIDC issuer for tests: HTTPS with a throwaway self-signed certificate (openssl), a discovery document, a
// JWKS, and ID tokens signed with its RSA key (or any other key, to test refusals). It also serves the
// authorization-code flow with PKCE: /authorize approves at once as `user` (no login page) and redirects back with a
// code; /token hands out an ID token only for that code, redirect URI, client and the verifier of the S256 challenge,
// with a refresh token (rotated at each use: grant_type=refresh_token returns an ID token for the current `user`), and
// /revoke (RFC 7009) forgets one.
import { execFile } from "node:child_process";
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { OidcOptions } from "../server/auth/oidc.js";

export interface TestIssuer {
  url: string;
  /** Who /authorize logs in (claims of the ID token /token returns); undefined: it answers error=access_denied. */
  user: Record<string, unknown> | undefined;
  /** The query of each /authorize request, in order. */
  authorizeRequests: URLSearchParams[];
  /** Lifetime of the ID tokens /token issues, in seconds (default 600). */
  idTokenTtlS: number;
  /** Whether /token issues refresh tokens (default true). */
  issueRefreshTokens: boolean;
  /** Refresh tokens /token will still accept. */
  refreshTokens: Set<string>;
  /** How many refresh grants /token answered with a new ID token. */
  refreshGrants: number;
  /** Tokens /revoke was asked to revoke. */
  revoked: string[];
  /** PEM of the serving certificate (self-signed: it is its own CA). */
  ca: string;
  token(claims: Record<string, unknown>, options?: { key?: KeyObject; kid?: string; alg?: string }): string;
  close(): Promise<void>;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const dir = mkdtempSync(join(tmpdir(), "capstan-oidc-"));
  await promisify(execFile)("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
    "-keyout",
    join(dir, "key.pem"),
    "-out",
    join(dir, "cert.pem"),
  ]);
  const ca = readFileSync(join(dir, "cert.pem"), "utf8");
  const tlsKey = readFileSync(join(dir, "key.pem"), "utf8");
  rmSync(dir, { recursive: true, force: true });
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: "jwk" }), kid: "k1", use: "sig", alg: "RS256" };
  let url = "";
  const codes = new Map<string, { query: URLSearchParams; claims: Record<string, unknown> }>();
  const server = createServer({ cert: ca, key: tlsKey }, (req, res) => {
    res.setHeader("content-type", "application/json");
    const path = (req.url ?? "").split("?")[0];
    if (req.url === "/.well-known/openid-configuration") {
      res.end(
        JSON.stringify({
          issuer: url,
          jwks_uri: `${url}/keys`,
          authorization_endpoint: `${url}/authorize`,
          token_endpoint: `${url}/token`,
          revocation_endpoint: `${url}/revoke`,
          code_challenge_methods_supported: ["S256"],
        }),
      );
    } else if (path === "/authorize") {
      const query = new URL(req.url ?? "", url).searchParams;
      issuer.authorizeRequests.push(query);
      const back = new URL(query.get("redirect_uri") ?? "");
      back.searchParams.set("state", query.get("state") ?? "");
      if (!issuer.user) back.searchParams.set("error", "access_denied");
      else {
        const code = randomBytes(16).toString("hex");
        codes.set(code, { query, claims: issuer.user });
        back.searchParams.set("code", code);
      }
      res.writeHead(302, { location: back.toString() });
      res.end();
    } else if (path === "/token" && req.method === "POST") {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString("utf8");
      });
      req.on("end", () => {
        const form = new URLSearchParams(body);
        const refreshToken = () => {
          if (!issuer.issueRefreshTokens) return {};
          const rt = randomBytes(16).toString("hex");
          issuer.refreshTokens.add(rt);
          return { refresh_token: rt };
        };
        const idToken = (clientId: string | null, extra: Record<string, unknown>) =>
          issuer.token({
            aud: clientId,
            exp: Math.floor(Date.now() / 1000) + issuer.idTokenTtlS,
            ...extra,
            ...(issuer.user ?? {}),
          });
        if (form.get("grant_type") === "refresh_token") {
          const rt = form.get("refresh_token") ?? "";
          if (!issuer.refreshTokens.delete(rt) || !issuer.user || form.get("client_id") !== "capstan") {
            res.statusCode = 400;
            res.end(JSON.stringify({ error: "invalid_grant" }));
            return;
          }
          issuer.refreshGrants++;
          res.end(JSON.stringify({ id_token: idToken(form.get("client_id"), {}), ...refreshToken() }));
          return;
        }
        const grant = codes.get(form.get("code") ?? "");
        codes.delete(form.get("code") ?? "");
        const q = grant?.query;
        const challenge = createHash("sha256")
          .update(form.get("code_verifier") ?? "")
          .digest("base64url");
        if (
          !grant ||
          !q ||
          form.get("grant_type") !== "authorization_code" ||
          form.get("redirect_uri") !== q.get("redirect_uri") ||
          form.get("client_id") !== q.get("client_id") ||
          q.get("code_challenge_method") !== "S256" ||
          challenge !== q.get("code_challenge")
        ) {
          res.statusCode = 400;
          res.end(JSON.stringify({ error: "invalid_grant" }));
          return;
        }
        res.end(
          JSON.stringify({
            access_token: "opaque",
            token_type: "Bearer",
            id_token: idToken(q.get("client_id"), { nonce: q.get("nonce"), ...grant.claims }),
            ...refreshToken(),
          }),
        );
      });
    } else if (path === "/revoke" && req.method === "POST") {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString("utf8");
      });
      req.on("end", () => {
        const token = new URLSearchParams(body).get("token") ?? "";
        issuer.revoked.push(token);
        issuer.refreshTokens.delete(token);
        res.end("{}");
      });
    } else if (req.url === "/keys") {
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.statusCode = 404;
      res.end("{}");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer: TestIssuer = {
    url,
    ca,
    user: undefined,
    authorizeRequests: [],
    idTokenTtlS: 600,
    issueRefreshTokens: true,
    refreshTokens: new Set(),
    refreshGrants: 0,
    revoked: [],
    token: (claims, options = {}) => {
      const header = { alg: options.alg ?? "RS256", kid: options.kid ?? "k1", typ: "JWT" };
      const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
      const input = `${enc(header)}.${enc({ iss: url, ...claims })}`;
      const sig = sign("sha256", Buffer.from(input), options.key ?? privateKey).toString("base64url");
      return `${input}.${sig}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return issuer;
}

/** The dashboard's options for this issuer: client "capstan", users and groups prefixed "oidc:", groups claim "groups". */
export function issuerOptions(issuer: TestIssuer): OidcOptions {
  return {
    issuerUrl: issuer.url,
    clientId: "capstan",
    usernamePrefix: "oidc:",
    groupsClaim: "groups",
    groupsPrefix: "oidc:",
    ca: issuer.ca,
  };
}

export function otherKey(): KeyObject {
  return generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
}
