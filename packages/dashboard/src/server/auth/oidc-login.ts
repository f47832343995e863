// OIDC login by redirect: the authorization-code flow with PKCE (RFC 7636, S256). The browser is sent to the issuer's
// authorization endpoint with a random state, nonce and code challenge; the issuer sends it back to the callback with a
// code, which the server exchanges (with the verifier, and the client secret when there is one) for an ID token. The
// token is validated as a pasted one is, plus its nonce, and opens a session. The state is bound to the browser by an
// HttpOnly cookie, so a callback started in another browser (login CSRF) is refused. Nothing of the code or the tokens
// reaches a log, an error message or the browser.
//
// When the issuer also returns a refresh token, the session keeps it (in memory, beside the ID token) and refreshes the
// ID token before it expires (refresh()); the refreshed token is validated as the first one was and must name the same
// user. A logout drops both and revokes the refresh token at the issuer when it has a revocation endpoint (revoke()).
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

/** What the issuer's token endpoint returned: the ID token, and a refresh token when it issues them. */
export interface OidcTokens {
  idToken: string;
  refreshToken?: string;
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

  /** The tokens of a finished login: the callback's state must be the one this browser's cookie holds. */
  async finish(q: URLSearchParams, cookieState: string | undefined): Promise<OidcTokens> {
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
    const tokens = await this.tokenRequest(
      new URLSearchParams({
        grant_type: "authorization_code",
        code,
        redirect_uri: pending.redirectUri,
        code_verifier: pending.verifier,
      }),
      "could not exchange the code with the OIDC issuer (see the dashboard's log)",
    );
    await this.verifier.verify(tokens.idToken, { nonce: pending.nonce });
    return tokens;
  }

  /**
   * A new ID token for a session (grant_type=refresh_token), validated as the first: signature, issuer, audience,
   * expiry. The caller checks it names the same user. A rotated refresh token replaces the old one; otherwise the old
   * one is kept.
   */
  async refresh(refreshToken: string): Promise<OidcTokens> {
    const tokens = await this.tokenRequest(
      new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken }),
      "could not refresh the ID token with the OIDC issuer (see the dashboard's log)",
    );
    await this.verifier.verify(tokens.idToken);
    return { idToken: tokens.idToken, refreshToken: tokens.refreshToken ?? refreshToken };
  }

  /** Revokes a refresh token at the issuer (RFC 7009), when it publishes a revocation endpoint; best effort. */
  async revoke(refreshToken: string): Promise<boolean> {
    const { revocation } = await this.verifier.endpoints();
    if (!revocation) return false;
    const form = new URLSearchParams({ token: refreshToken, token_type_hint: "refresh_token" });
    await postForm(revocation, this.clientAuth(form), this.verifier.ca, this.authHeaders());
    return true;
  }

  private async tokenRequest(form: URLSearchParams, failure: string): Promise<OidcTokens> {
    const { token } = await this.verifier.endpoints();
    let body: { id_token?: unknown; refresh_token?: unknown };
    try {
      const text = await postForm(token, this.clientAuth(form), this.verifier.ca, this.authHeaders());
      if (text.length > maxTokenResponse) throw new Error("token response too large");
      body = JSON.parse(text) as typeof body;
    } catch (cause) {
      throw new AuthenticationError(failure, { cause });
    }
    if (typeof body.id_token !== "string") throw new AuthenticationError("the OIDC issuer sent no ID token");
    const refresh = typeof body.refresh_token === "string" && body.refresh_token.length <= 16 * 1024;
    return { idToken: body.id_token, ...(refresh ? { refreshToken: body.refresh_token as string } : {}) };
  }

  /** A public client names itself in the form; a confidential one authenticates with HTTP Basic (authHeaders). */
  private clientAuth(form: URLSearchParams): URLSearchParams {
    if (!this.options.clientSecret) form.set("client_id", this.verifier.clientId);
    return form;
  }

  private authHeaders(): Record<string, string> {
    if (!this.options.clientSecret) return {};
    const id = encodeURIComponent(this.verifier.clientId);
    const secret = encodeURIComponent(this.options.clientSecret);
    return { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}` };
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
