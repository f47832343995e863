// OIDC login by redirect: the authorization-code flow with PKCE (RFC 7636, S256). The browser is sent to the issuer's
// authorization endpoint with a random state, nonce and code challenge; the issuer sends it back to the callback with a
// code, which the server exchanges (with the verifier, and the client secret when there is one) for an ID token. The
// token is validated as a pasted one is, plus its nonce, and opens a session. The state is bound to the browser by an
// HttpOnly cookie, so a callback started in another browser (login CSRF) is refused. Nothing of the code or the tokens
// reaches a log, an error message or the browser.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { AuthenticationError } from "./authenticate.js";
import { type OidcVerifier, postForm } from "./oidc.js";

export const stateCookie = "capstan_oidc";
export const callbackPath = "/api/oidc/callback";
const pendingTtlMs = 10 * 60_000;
const maxPending = 10_000;
const maxTokenResponse = 64 * 1024;

export interface OidcLoginOptions {
  /** Scopes asked for (openid is always one). */
  scopes?: string[];
  /** Confidential clients: the secret, sent with HTTP Basic (client_secret_basic). */
  clientSecret?: string;
  /** The callback URL registered with the issuer; default: this server's origin + /api/oidc/callback. */
  redirectUrl?: string;
  now?: () => number;
}

interface Pending {
  verifier: string;
  nonce: string;
  redirectUri: string;
  expires: number;
}

const random = () => randomBytes(32).toString("base64url");

export class OidcLogin {
  private readonly pending = new Map<string, Pending>();
  private readonly now: () => number;

  constructor(
    private readonly verifier: OidcVerifier,
    private readonly options: OidcLoginOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Where to send the browser, and the state to bind to it with a cookie. `origin` is this server's, as the browser sees it. */
  async begin(origin: string): Promise<{ location: string; state: string }> {
    const { authorization } = await this.verifier.endpoints();
    const state = random();
    const nonce = random();
    const verifier = random();
    const redirectUri = this.options.redirectUrl || `${origin}${callbackPath}`;
    this.prune();
    this.pending.set(state, { verifier, nonce, redirectUri, expires: this.now() + pendingTtlMs });
    const url = new URL(authorization);
    const scopes = new Set(["openid", ...(this.options.scopes ?? ["profile", "email"])]);
    for (const [k, v] of Object.entries({
      response_type: "code",
      client_id: this.verifier.clientId,
      redirect_uri: redirectUri,
      scope: [...scopes].join(" "),
      state,
      nonce,
      code_challenge: createHash("sha256").update(verifier).digest("base64url"),
      code_challenge_method: "S256",
    })) {
      url.searchParams.set(k, v);
    }
    return { location: url.toString(), state };
  }

  /** The ID token of a finished login: the callback's state must be the one this browser's cookie holds. */
  async finish(q: URLSearchParams, cookieState: string | undefined): Promise<string> {
    const state = q.get("state") ?? "";
    const pending = this.pending.get(state);
    if (!pending || !cookieState || !same(state, cookieState)) {
      throw new AuthenticationError("this login was not started in this browser, or took longer than 10 minutes");
    }
    this.pending.delete(state);
    if (pending.expires < this.now()) throw new AuthenticationError("this login took longer than 10 minutes");
    const error = q.get("error");
    if (error) throw new AuthenticationError(`the issuer refused the login: ${error.slice(0, 100)}`);
    const code = q.get("code");
    if (!code || code.length > 4096) throw new AuthenticationError("the issuer sent no code");
    const { token } = await this.verifier.endpoints();
    const form = new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: pending.redirectUri,
      code_verifier: pending.verifier,
    });
    const headers: Record<string, string> = {};
    if (this.options.clientSecret) {
      const id = encodeURIComponent(this.verifier.clientId);
      const secret = encodeURIComponent(this.options.clientSecret);
      headers.authorization = `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
    } else {
      form.set("client_id", this.verifier.clientId);
    }
    let idToken: unknown;
    try {
      const text = await postForm(token, form, this.verifier.ca, headers);
      if (text.length > maxTokenResponse) throw new Error("token response too large");
      idToken = (JSON.parse(text) as { id_token?: unknown }).id_token;
    } catch (cause) {
      throw new AuthenticationError("could not exchange the code with the OIDC issuer (see the dashboard's log)", {
        cause,
      });
    }
    if (typeof idToken !== "string") throw new AuthenticationError("the OIDC issuer sent no ID token");
    await this.verifier.verify(idToken, { nonce: pending.nonce });
    return idToken;
  }

  private prune(): void {
    const now = this.now();
    for (const [k, p] of this.pending) if (p.expires < now) this.pending.delete(k);
    // A flood of unfinished logins drops the oldest rather than growing without bound.
    while (this.pending.size >= maxPending) this.pending.delete(this.pending.keys().next().value ?? "");
  }
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
