// (Capstan) What the registry auth flow learns, kept between reconciles by one process: the challenge a registry
// answered with (so the next request carries credentials or a token at once instead of meeting a 401 first) and the
// bearer tokens it granted, each for its lifetime (`expires_in`, 60 s when absent, as the distribution token spec
// says; capped at an hour). Everything is keyed by an identity: the registry's scheme and host, the credentials and
// the TLS settings, hashed with a per-process key so no secret is a map key and no two Secrets share a token unless
// they hold the same credentials for the same host with the same trust. Both maps are bounded (oldest out first).
import { createHmac, randomBytes } from "node:crypto";
import type { RegistryCredentials, RegistryTls } from "./auth.js";

export interface CachedChallenge {
  scheme: "basic" | "bearer";
  realm?: string;
  service?: string;
}

export interface RegistryIdentity {
  plainHttp: boolean;
  host: string;
  credentials?: RegistryCredentials | undefined;
  tls?: RegistryTls | undefined;
}

export interface RegistryAuthCacheOptions {
  /** Entries per map before the oldest is dropped (default 4096). */
  maxEntries?: number;
  /** The clock, for tests. */
  now?: () => number;
}

const maxLifetimeSeconds = 3600;
const defaultLifetimeSeconds = 60;
/** A token is not offered in its last seconds: it could expire on the way. */
const marginMs = 5_000;

export class RegistryAuthCache {
  private readonly key = randomBytes(32);
  private readonly challenges = new Map<string, CachedChallenge>();
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(o: RegistryAuthCacheOptions = {}) {
    this.maxEntries = o.maxEntries ?? 4096;
    this.now = o.now ?? Date.now;
  }

  /** An opaque key for one registry, credentials and TLS settings. */
  identity(id: RegistryIdentity): string {
    const h = createHmac("sha256", this.key);
    for (const part of [
      id.plainHttp ? "http" : "https",
      id.host.toLowerCase(),
      id.credentials?.username ?? "",
      id.credentials?.password ?? "",
    ]) {
      h.update(part).update("\0");
    }
    for (const part of [id.tls?.ca, id.tls?.cert, id.tls?.key]) h.update(part ?? "").update("\0");
    return h.digest("hex");
  }

  challenge(identity: string): CachedChallenge | undefined {
    return this.challenges.get(identity);
  }

  setChallenge(identity: string, challenge: CachedChallenge): void {
    this.put(this.challenges, identity, challenge);
  }

  token(identity: string, scope: string): string | undefined {
    const k = `${identity} ${scope}`;
    const entry = this.tokens.get(k);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.tokens.delete(k);
      return undefined;
    }
    return entry.token;
  }

  /** Keeps a granted token for its lifetime; `expiresIn` is the token response's field, in seconds. */
  setToken(identity: string, scope: string, token: string, expiresIn: unknown): void {
    const seconds =
      typeof expiresIn === "number" && Number.isFinite(expiresIn) && expiresIn > 0
        ? Math.min(expiresIn, maxLifetimeSeconds)
        : defaultLifetimeSeconds;
    const expiresAt = this.now() + seconds * 1000 - marginMs;
    if (expiresAt <= this.now()) return;
    this.put(this.tokens, `${identity} ${scope}`, { token, expiresAt });
  }

  /** Forgets a token the registry refused (revoked, or expired earlier than it said). */
  dropToken(identity: string, scope: string): void {
    this.tokens.delete(`${identity} ${scope}`);
  }

  get size(): { challenges: number; tokens: number } {
    return { challenges: this.challenges.size, tokens: this.tokens.size };
  }

  private put<V>(map: Map<string, V>, k: string, v: V): void {
    map.delete(k);
    map.set(k, v);
    if (map.size <= this.maxEntries) return;
    if (map === (this.tokens as Map<string, unknown>)) {
      const now = this.now();
      for (const [key, entry] of this.tokens) if (entry.expiresAt <= now) this.tokens.delete(key);
    }
    while (map.size > this.maxEntries) {
      const oldest = map.keys().next().value;
      if (oldest === undefined) break;
      map.delete(oldest);
    }
  }
}
