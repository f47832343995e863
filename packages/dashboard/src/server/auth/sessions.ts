// Browser sessions: an opaque random id in an HttpOnly, SameSite=Strict cookie, mapped here to the token the user
// logged in with. The token stays in this process's memory; it is reviewed again when the review is older than the
// reviewer's TTL, so a revoked token ends the session.
import { randomBytes } from "node:crypto";
import type { Principal, TokenReviewer } from "./authenticate.js";

export const sessionCookie = "capstan_session";

interface Session {
  token: string;
  expires: number;
}

export class Sessions {
  private readonly byId = new Map<string, Session>();

  constructor(
    private readonly reviewer: TokenReviewer,
    private readonly ttlMs = 8 * 3600_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Reviews the token and opens a session for it. */
  async login(token: string): Promise<{ id: string; principal: Principal }> {
    const principal = await this.reviewer.review(token);
    const id = randomBytes(32).toString("base64url");
    if (this.byId.size > 10_000) this.prune();
    this.byId.set(id, { token, expires: this.now() + this.ttlMs });
    return { id, principal };
  }

  async principal(id: string): Promise<Principal | undefined> {
    const s = this.byId.get(id);
    if (!s) return undefined;
    if (s.expires < this.now()) {
      this.byId.delete(id);
      return undefined;
    }
    try {
      return await this.reviewer.review(s.token);
    } catch {
      this.byId.delete(id);
      return undefined;
    }
  }

  logout(id: string): void {
    this.byId.delete(id);
  }

  private prune(): void {
    const now = this.now();
    for (const [id, s] of this.byId) if (s.expires < now) this.byId.delete(id);
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
