// A local OIDC issuer for tests: HTTPS with a throwaway self-signed certificate (openssl), a discovery document, a
// JWKS, and ID tokens signed with its RSA key (or any other key, to test refusals).
import { execFile } from "node:child_process";
import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

export interface TestIssuer {
  url: string;
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
  const server = createServer({ cert: ca, key: tlsKey }, (req, res) => {
    res.setHeader("content-type", "application/json");
    if (req.url === "/.well-known/openid-configuration") {
      res.end(JSON.stringify({ issuer: url, jwks_uri: `${url}/keys` }));
    } else if (req.url === "/keys") {
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.statusCode = 404;
      res.end("{}");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    ca,
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
}

export function otherKey(): KeyObject {
  return generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
}
