// OIDC ID tokens, validated here as kube-apiserver's OIDC authenticator does (--oidc-issuer-url, --oidc-client-id,
// --oidc-username-claim/-prefix, --oidc-groups-claim/-prefix): signature by a key from the issuer's JWKS (discovered
// from /.well-known/openid-configuration), iss, aud, exp/nbf, and email_verified when the username is the email.
// Tokens and claims are hostile input: sizes are bounded, and no part of a token reaches an error message or a log.
import { createPublicKey, type JsonWebKey, type KeyObject, verify } from "node:crypto";
import { request } from "node:https";
import { AuthenticationError, type Principal } from "./authenticate.js";

export interface OidcOptions {
  issuerUrl: string;
  clientId: string;
  /** Claim holding the user name (default "sub"). */
  usernameClaim?: string;
  /**
   * Prefix of the user name. Unset: the apiserver's default (the issuer URL and "#" unless the claim is "email");
   * "-" for none.
   */
  usernamePrefix?: string;
  groupsClaim?: string;
  groupsPrefix?: string;
  /** PEM of the CA that signs the issuer's serving certificate, when it is not a public one (--oidc-ca-file). */
  ca?: string;
  now?: () => number;
}

interface Jwk extends JsonWebKey {
  kid?: string;
  use?: string;
}

const maxTokenBytes = 16 * 1024;
const maxJwksBytes = 256 * 1024;
const jwksTtlMs = 10 * 60_000;
const minRefetchMs = 10_000;
const skewS = 60;
const algs: Record<string, { hash: string; dsa?: "ieee-p1363" }> = {
  RS256: { hash: "sha256" },
  RS384: { hash: "sha384" },
  RS512: { hash: "sha512" },
  ES256: { hash: "sha256", dsa: "ieee-p1363" },
  ES384: { hash: "sha384", dsa: "ieee-p1363" },
  ES512: { hash: "sha512", dsa: "ieee-p1363" },
};

function b64json(part: string): Record<string, unknown> {
  const v = JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as unknown;
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("not an object");
  return v as Record<string, unknown>;
}

/** The issuer a JWT claims, without verifying anything: to choose the authenticator. */
export function unverifiedIssuer(token: string): string | undefined {
  const parts = token.split(".");
  if (parts.length !== 3 || token.length > maxTokenBytes) return undefined;
  try {
    const iss = b64json(parts[1] ?? "").iss;
    return typeof iss === "string" ? iss : undefined;
  } catch {
    return undefined;
  }
}

/** When a JWT says it expires (ms since the epoch), without verifying anything: to refresh a session's in time. */
export function unverifiedExpiry(token: string): number | undefined {
  const parts = token.split(".");
  if (parts.length !== 3 || token.length > maxTokenBytes) return undefined;
  try {
    const exp = b64json(parts[1] ?? "").exp;
    return typeof exp === "number" ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** The issuer's endpoints for the authorization-code flow, from its discovery document. */
export interface OidcEndpoints {
  authorization: string;
  token: string;
  /** RFC 7009 token revocation (revocation_endpoint), when the issuer has one: a logout revokes the refresh token. */
  revocation?: string;
}

export class OidcVerifier {
  private keys = new Map<string, KeyObject>();
  private endpointsFound: OidcEndpoints | undefined;
  private fetchedAt = 0;
  private inflight: Promise<void> | undefined;
  private readonly issuer: string;

  constructor(private readonly options: OidcOptions) {
    this.issuer = options.issuerUrl;
    const u = new URL(options.issuerUrl);
    if (u.protocol !== "https:") throw new Error("--oidc-issuer-url must be https (as kube-apiserver requires)");
  }

  get issuerUrl(): string {
    return this.issuer;
  }

  get clientId(): string {
    return this.options.clientId;
  }

  get ca(): string | undefined {
    return this.options.ca;
  }

  /** authorization_endpoint and token_endpoint (https only), read with the keys. */
  async endpoints(): Promise<OidcEndpoints> {
    if (!this.endpointsFound) await this.refresh();
    if (!this.endpointsFound)
      throw new AuthenticationError("the OIDC issuer publishes no authorization or token endpoint");
    return this.endpointsFound;
  }

  /** Validates an ID token; `nonce`, when given, must be its nonce claim (a token from the login this browser began). */
  async verify(token: string, expect: { nonce?: string } = {}): Promise<Principal> {
    const parts = token.split(".");
    if (parts.length !== 3 || token.length > maxTokenBytes) throw new AuthenticationError("not a JWT");
    const [h = "", p = "", s = ""] = parts;
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      header = b64json(h);
      claims = b64json(p);
    } catch {
      throw new AuthenticationError("malformed ID token");
    }
    const alg = typeof header.alg === "string" ? algs[header.alg] : undefined;
    if (!alg) throw new AuthenticationError("ID token: unsupported signing algorithm");
    const key = await this.key(typeof header.kid === "string" ? header.kid : "");
    const ok = verify(
      alg.hash,
      Buffer.from(`${h}.${p}`),
      alg.dsa ? { key, dsaEncoding: alg.dsa } : key,
      Buffer.from(s, "base64url"),
    );
    if (!ok) throw new AuthenticationError("ID token: bad signature");
    this.checkClaims(claims);
    if (expect.nonce !== undefined && claims.nonce !== expect.nonce) {
      throw new AuthenticationError("ID token: not from this login (nonce)");
    }
    return this.principal(claims);
  }

  private checkClaims(c: Record<string, unknown>): void {
    const now = Math.floor((this.options.now ?? Date.now)() / 1000);
    if (c.iss !== this.issuer) throw new AuthenticationError("ID token: wrong issuer");
    const aud = Array.isArray(c.aud) ? c.aud : [c.aud];
    if (!aud.includes(this.options.clientId)) throw new AuthenticationError("ID token: not issued for this client");
    if (typeof c.exp !== "number" || c.exp + skewS < now) throw new AuthenticationError("ID token: expired");
    if (typeof c.nbf === "number" && c.nbf - skewS > now) throw new AuthenticationError("ID token: not yet valid");
  }

  private principal(c: Record<string, unknown>): Principal {
    const claim = this.options.usernameClaim ?? "sub";
    const name = c[claim];
    if (typeof name !== "string" || !name || name.length > 512) {
      throw new AuthenticationError(`ID token: no ${claim} claim`);
    }
    if (claim === "email" && c.email_verified !== undefined && c.email_verified !== true) {
      throw new AuthenticationError("ID token: email not verified");
    }
    const configured = this.options.usernamePrefix;
    const prefix =
      configured === "-" ? "" : configured !== undefined ? configured : claim === "email" ? "" : `${this.issuer}#`;
    const groups: string[] = [];
    if (this.options.groupsClaim) {
      const g = c[this.options.groupsClaim];
      const list = typeof g === "string" ? [g] : Array.isArray(g) ? g : [];
      for (const v of list.slice(0, 256)) {
        if (typeof v === "string" && v && v.length <= 512) groups.push(`${this.options.groupsPrefix ?? ""}${v}`);
      }
    }
    // As the apiserver does for every authenticated user.
    groups.push("system:authenticated");
    return { user: `${prefix}${name}`, groups, insecure: false };
  }

  private async key(kid: string): Promise<KeyObject> {
    const now = (this.options.now ?? Date.now)();
    let key = this.keys.get(kid) ?? (kid === "" && this.keys.size === 1 ? [...this.keys.values()][0] : undefined);
    const stale = now - this.fetchedAt > jwksTtlMs;
    if (!key || stale) {
      // An unknown kid refetches (keys rotate), but not more than every 10 s: a token cannot make us hammer the issuer.
      if (stale || now - this.fetchedAt > minRefetchMs) await this.refresh();
      key = this.keys.get(kid) ?? (kid === "" && this.keys.size === 1 ? [...this.keys.values()][0] : undefined);
    }
    if (!key) throw new AuthenticationError("ID token: signed by a key the issuer does not publish");
    return key;
  }

  private refresh(): Promise<void> {
    this.inflight ??= this.load().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async load(): Promise<void> {
    const getJson = async (url: string) => JSON.parse(await getText(url, this.options.ca)) as Record<string, unknown>;
    try {
      const discovery = await getJson(`${this.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`);
      if (discovery.issuer !== this.issuer) throw new Error("discovery: issuer does not match --oidc-issuer-url");
      if (typeof discovery.jwks_uri !== "string") throw new Error("discovery: no jwks_uri");
      const { authorization_endpoint: authorization, token_endpoint: token } = discovery;
      if (typeof authorization === "string" && typeof token === "string" && [authorization, token].every(isHttps)) {
        const { revocation_endpoint: revocation } = discovery;
        this.endpointsFound = {
          authorization,
          token,
          ...(typeof revocation === "string" && isHttps(revocation) ? { revocation } : {}),
        };
      }
      const jwks = await getJson(discovery.jwks_uri);
      const keys = new Map<string, KeyObject>();
      for (const jwk of (Array.isArray(jwks.keys) ? jwks.keys : []).slice(0, 64) as Jwk[]) {
        if (jwk.use && jwk.use !== "sig") continue;
        try {
          keys.set(jwk.kid ?? "", createPublicKey({ key: jwk, format: "jwk" }));
        } catch {
          // A key we cannot read is skipped; the others still serve.
        }
      }
      this.keys = keys;
      this.fetchedAt = (this.options.now ?? Date.now)();
    } catch (cause) {
      this.fetchedAt = (this.options.now ?? Date.now)();
      throw new AuthenticationError("could not read the OIDC issuer's keys (see the dashboard's log)", { cause });
    }
  }
}

function isHttps(url: string): boolean {
  try {
    return new URL(url).protocol === "https:";
  } catch {
    return false;
  }
}

/** GET over HTTPS only, bounded in size and time, no redirects. */
function getText(url: string, ca: string | undefined): Promise<string> {
  return httpsText("GET", url, ca);
}

/** POST of a form over HTTPS only (the token request), bounded like getText. The body never reaches an error. */
export function postForm(
  url: string,
  form: URLSearchParams,
  ca: string | undefined,
  headers: Record<string, string> = {},
): Promise<string> {
  return httpsText("POST", url, ca, form.toString(), headers);
}

function httpsText(
  method: string,
  url: string,
  ca: string | undefined,
  body?: string,
  headers: Record<string, string> = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    if (u.protocol !== "https:") {
      reject(new Error(`${method} ${url}: not https`));
      return;
    }
    const options = {
      method,
      timeout: 10_000,
      ...(ca ? { ca } : {}),
      headers: body === undefined ? headers : { ...headers, "content-type": "application/x-www-form-urlencoded" },
    };
    const req = request(u, options, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`${method} ${url}: HTTP ${res.statusCode}`));
        return;
      }
      let size = 0;
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > maxJwksBytes) {
          req.destroy(new Error(`${method} ${url}: response too large`));
          return;
        }
        chunks.push(c);
      });
      res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${url}: timed out`)));
    req.on("error", reject);
    req.end(body);
  });
}
