// Who is asking: a Kubernetes bearer token, checked by the apiserver with a TokenReview. The token is kept in memory
// only (a session's, to review it again), never logged, never in an error message, never sent to the browser.
import { createHash } from "node:crypto";
import type { Client, KubeObject } from "@capstan/runtime";
import { type OidcVerifier, unverifiedIssuer } from "./oidc.js";

export interface Principal {
  user: string;
  groups: string[];
  /** --insecure-local: the dashboard's own credentials, no impersonation, no filtering. */
  insecure: boolean;
}

export class AuthenticationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AuthenticationError";
  }
}

/** A bearer token longer than this is refused before it reaches the apiserver. */
export const maxTokenBytes = 16 * 1024;

interface TokenReview extends KubeObject {
  status?: { authenticated?: boolean; user?: { username?: string; groups?: string[] }; error?: string };
}

interface Reviewed {
  principal: Principal;
  at: number;
}

export interface TokenReviewerOptions {
  client: Client;
  /** How long a review is trusted (default 30 s): a revoked token stops working within this. */
  ttlMs?: number;
  audiences?: string[];
  /** ID tokens whose `iss` is this verifier's issuer are validated by it instead of a TokenReview. */
  oidc?: OidcVerifier;
  now?: () => number;
}

export class TokenReviewer {
  private readonly cache = new Map<string, Reviewed>();
  private readonly ttl: number;
  private readonly now: () => number;

  constructor(private readonly options: TokenReviewerOptions) {
    this.ttl = options.ttlMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** The user behind `token`, or AuthenticationError (with no part of the token in its message). */
  async review(token: string): Promise<Principal> {
    if (!token || Buffer.byteLength(token) > maxTokenBytes || /\s/.test(token)) {
      throw new AuthenticationError("not a bearer token");
    }
    const oidc = this.options.oidc;
    // Not cached: a signature check is cheap, and the token's own expiry must end the session on time.
    if (oidc && unverifiedIssuer(token) === oidc.issuerUrl) return oidc.verify(token);
    const digest = createHash("sha256").update(token).digest("hex");
    const cached = this.cache.get(digest);
    if (cached && this.now() - cached.at < this.ttl) return cached.principal;
    let res: TokenReview;
    try {
      res = await this.options.client.create<TokenReview>({
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenReview",
        metadata: { name: "" },
        spec: { token, ...(this.options.audiences?.length ? { audiences: this.options.audiences } : {}) },
      });
    } catch (cause) {
      // The client's message names the request, never its body; still, do not pass the cause's text on.
      throw new AuthenticationError("could not review the token with the apiserver (see the dashboard's log)", {
        cause,
      });
    }
    const user = res.status?.user?.username;
    if (!res.status?.authenticated || !user) {
      this.cache.delete(digest);
      throw new AuthenticationError("the apiserver did not accept this token");
    }
    const principal: Principal = { user, groups: (res.status.user?.groups ?? []).slice(0, 256), insecure: false };
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(digest, { principal, at: this.now() });
    return principal;
  }
}
