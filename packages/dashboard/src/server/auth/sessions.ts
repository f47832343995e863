// Browser sessions: an opaque random id in an HttpOnly, SameSite=Strict cookie, mapped here to the token the user
// logged in with. The token stays in this process's memory; it is reviewed again when the review is older than the
// reviewer's TTL, so a revoked token ends the session.
//
// A session opened by OIDC login by redirect may also hold the issuer's refresh token: when its ID token is within
// `refreshAheadMs` of expiring, the next look-up (a request, or an open stream's periodic check) asks the issuer for a
// new one. The new ID token must pass the same validation and name the same user; if the refresh fails the session
// goes on with the ID token it has, and ends when that expires. Logout drops the session and its tokens at once.
import { randomBytes } from "node:crypto";
import type { Principal, TokenReviewer } from "./authenticate.js";
import { unverifiedExpiry } from "./oidc.js";

export const sessionCookie = "capstan_session";

/** How a session renews its ID token: the issuer's refresh token and the call that spends it. */
export interface Refresher {
  refreshToken: string;
  refresh(refreshToken: string): Promise<{ idToken: string; refreshToken?: string }>;
  /** Revokes the refresh token at the issuer on logout (best effort). */
  revoke?(refreshToken: string): Promise<unknown>;
}

interface Session {
  token: string;
  user: string;
  expires: number;
  refresher?: Refresher;
  refreshing?: Promise<void>;
  lastRefreshAttempt?: number;
}

export interface SessionsOptions {
  /** How long a session lasts, whatever its token (default 8 h, the cookie's Max-Age). */
  ttlMs?: number;
  /** Refresh an ID token this long before it expires (default 60 s). */
  refreshAheadMs?: number;
  /** A failed refresh is tried again after this long (default 10 s). */
  refreshRetryMs?: number;
  now?: () => number;
  /** Told of a failed refresh (a message that names no token). */
  onRefreshError?: (user: string, err: Error) => void;
}

export class Sessions {
  private readonly byId = new Map<string, Session>();
  private readonly ttlMs: number;
  private readonly refreshAheadMs: number;
  private readonly refreshRetryMs: number;
  private readonly now: () => number;
  private readonly closeListeners = new Set<(id: string) => void>();

  constructor(
    private readonly reviewer: TokenReviewer,
    private readonly options: SessionsOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 8 * 3600_000;
    this.refreshAheadMs = options.refreshAheadMs ?? 60_000;
    this.refreshRetryMs = options.refreshRetryMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Reviews the token and opens a session for it (with the issuer's refresh token, after an OIDC login). */
  async login(token: string, refresher?: Refresher): Promise<{ id: string; principal: Principal }> {
    const principal = await this.reviewer.review(token);
    const id = randomBytes(32).toString("base64url");
    if (this.byId.size > 10_000) this.prune();
    this.byId.set(id, {
      token,
      user: principal.user,
      expires: this.now() + this.ttlMs,
      ...(refresher ? { refresher } : {}),
    });
    return { id, principal };
  }

  async principal(id: string): Promise<Principal | undefined> {
    const s = this.byId.get(id);
    if (!s) return undefined;
    if (s.expires < this.now()) {
      this.end(id);
      return undefined;
    }
    if (s.refresher && this.expiresSoon(s.token)) await this.refresh(s);
    if (this.byId.get(id) !== s) return undefined;
    try {
      return await this.reviewer.review(s.token);
    } catch {
      this.end(id);
      return undefined;
    }
  }

  /** Ends a session: its tokens are dropped, its open streams told, its refresh token revoked at the issuer. */
  logout(id: string): void {
    const s = this.byId.get(id);
    this.end(id);
    if (s?.refresher?.revoke) {
      s.refresher.revoke(s.refresher.refreshToken).catch((err: Error) => this.options.onRefreshError?.(s.user, err));
    }
  }

  /** Called with the id of each session that ends (logout, expiry, a token no longer accepted). */
  onClose(listener: (id: string) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  private end(id: string): void {
    if (!this.byId.delete(id)) return;
    for (const l of this.closeListeners) l(id);
  }

  private expiresSoon(token: string): boolean {
    const exp = unverifiedExpiry(token);
    return exp !== undefined && exp - this.now() < this.refreshAheadMs;
  }

  /** One refresh at a time per session, and not again within refreshRetryMs of a failed one. */
  private refresh(s: Session): Promise<void> {
    if (s.refreshing) return s.refreshing;
    const refresher = s.refresher;
    if (!refresher) return Promise.resolve();
    if (s.lastRefreshAttempt !== undefined && this.now() - s.lastRefreshAttempt < this.refreshRetryMs) {
      return Promise.resolve();
    }
    s.lastRefreshAttempt = this.now();
    s.refreshing = (async () => {
      try {
        const next = await refresher.refresh(refresher.refreshToken);
        const principal = await this.reviewer.review(next.idToken);
        if (principal.user !== s.user) throw new Error("the refreshed ID token names another user");
        s.token = next.idToken;
        if (next.refreshToken) refresher.refreshToken = next.refreshToken;
        s.lastRefreshAttempt = undefined;
      } catch (err) {
        this.options.onRefreshError?.(s.user, err as Error);
      } finally {
        s.refreshing = undefined;
      }
    })();
    return s.refreshing;
  }

  private prune(): void {
    const now = this.now();
    for (const [id, s] of this.byId) if (s.expires < now) this.end(id);
  }
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}
