// The entry points the reconciler uses: resolve the spec's reference remotely, and fetch it into a directory. Each
// call opens its own credential session and removes it afterwards (resolveSource only when git runs the listing).
import {
  ProxyConfigError,
  type ProxyEnvironment,
  type ProxyTarget,
  processProxy,
  proxyFor,
  socksProxyFor,
} from "@capstan/runtime";
import { GitError } from "../errors.js";
import type { GitAuth, HttpAuth, ProxyConfig, SecretData } from "./auth.js";
import { authFromSecret, checkProvider, parseRemoteUrl, proxyFromSecret } from "./auth.js";
import type { GitCache } from "./cache.js";
import { checkoutCached } from "./cached-checkout.js";
import { type CheckoutOptions, type CheckoutResult, checkoutResolved } from "./checkout.js";
import { type CheckoutStrategy, checkoutStrategy, type GitRepositoryRef } from "./reference.js";
import { listRemote, type ResolvedRef, resolveRemote, type SessionSource } from "./remote.js";
import { type GitSession, openSession } from "./session.js";

export interface GitSourceSpec {
  url: string;
  ref?: GitRepositoryRef;
  provider?: string;
  /** Data of the Secret named by spec.secretRef, decoded. */
  secret?: SecretData;
  /** Data of the Secret named by spec.proxySecretRef, decoded. */
  proxySecret?: SecretData;
  /** spec.timeout in milliseconds (Flux's default is 60s). */
  timeoutMs?: number;
  recurseSubmodules?: boolean;
  sparseCheckout?: readonly string[];
  /** (Capstan) The process's object cache; without it every fetch is a fresh repository. */
  cache?: GitCache;
  /** The checkout must be a repository (spec.verify runs git verify-commit/verify-tag in it): no cache. */
  needsRepository?: boolean;
  /** (Tests) Proxy settings in place of the process's HTTPS_PROXY, HTTP_PROXY and NO_PROXY. */
  proxyEnv?: ProxyEnvironment;
}

export const defaultTimeoutMs = 60_000;

interface Prepared {
  url: string;
  auth: GitAuth;
  proxy?: ProxyConfig;
  /** SSH: the environment's SOCKS5 proxy (ALL_PROXY), as Flux documents it for Git over SSH. */
  socks?: ProxyTarget;
  strategy: CheckoutStrategy;
}

/**
 * Validates the spec (URL, provider, credentials, proxy) before any process runs. The proxy is spec.proxySecretRef's,
 * else the one the controller's environment gives this URL, read as Flux's Go controllers read HTTPS_PROXY,
 * HTTP_PROXY and NO_PROXY for http(s), and ALL_PROXY (SOCKS5) for SSH; git and ssh are then told it explicitly (a
 * session never inherits the environment).
 */
export function prepare(spec: GitSourceSpec): Prepared {
  checkProvider(spec.provider);
  const url = parseRemoteUrl(spec.url);
  const auth = authFromSecret(url, spec.secret);
  const prepared: Prepared = { url: spec.url, auth, strategy: checkoutStrategy(spec.ref) };
  if (spec.proxySecret) prepared.proxy = proxyFromSecret(spec.proxySecret);
  else if (auth.transport !== "ssh") {
    const proxy = environmentProxy(url, spec.proxyEnv ?? processProxy());
    if (proxy) prepared.proxy = proxy;
  } else {
    const socks = socksProxyFor(url.hostname, url.port || "22", spec.proxyEnv ?? processProxy());
    if (socks) {
      // ssh expands the host into ProxyCommand, which its shell runs: only DNS names and IP addresses go there (ssh
      // refuses shell metacharacters itself too; this does not depend on its version).
      if (!/^(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])$/.test(url.hostname)) {
        throw new GitError("url", `invalid host in URL '${spec.url}': not a DNS name or IP address`, {
          stalling: true,
        });
      }
      prepared.socks = socks;
    }
  }
  return prepared;
}

function environmentProxy(url: URL, proxyEnv: ProxyEnvironment): ProxyConfig | undefined {
  let target: ReturnType<typeof proxyFor>;
  try {
    target = proxyFor(url, proxyEnv);
  } catch (err) {
    if (err instanceof ProxyConfigError) throw new GitError("other", `controller environment: ${err.message}`);
    throw err;
  }
  if (!target) return undefined;
  const proxy: ProxyConfig = { address: target.url.href };
  if (target.username) proxy.username = target.username;
  if (target.password) proxy.password = target.password;
  return proxy;
}

/**
 * The credentials for an in-process listing (listRemote's `direct`): HTTP(S), directly or through an http(s) proxy
 * (the spec's or the environment's); a socks proxy leaves the listing to git.
 */
function direct(p: Prepared): HttpAuth | undefined {
  if (p.auth.transport === "ssh") return undefined;
  if (p.proxy && !proxyTargetOf(p.proxy)) return undefined;
  return p.auth;
}

/** The proxy of an in-process request, when Node can use it (http or https). */
function proxyTargetOf(proxy: ProxyConfig | undefined): ProxyTarget | undefined {
  if (!proxy) return undefined;
  let url: URL;
  try {
    url = new URL(proxy.address);
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  const target: ProxyTarget = { url };
  try {
    if (proxy.username ?? url.username) target.username = proxy.username ?? decodeURIComponent(url.username);
    if (proxy.password ?? url.password) target.password = proxy.password ?? decodeURIComponent(url.password);
  } catch {
    return undefined; // a malformed escape in the address's login: git reads it its own way
  }
  url.username = "";
  url.password = "";
  return target;
}

async function withSession<T>(p: Prepared, fn: (session: GitSession) => Promise<T>): Promise<T> {
  const session = await openSession(p.auth, p.proxy, process.env, p.socks);
  try {
    return await fn(session);
  } finally {
    await session.dispose();
  }
}

/**
 * A session opened on first use and removed afterwards: an in-process listing (over HTTP(S) without a proxy) writes
 * no credential files and makes no temp directory; only a hand-over to git opens one.
 */
async function withLazySession<T>(p: Prepared, fn: (session: SessionSource) => Promise<T>): Promise<T> {
  let opened: Promise<GitSession> | undefined;
  try {
    return await fn(() => {
      opened ??= openSession(p.auth, p.proxy, process.env, p.socks);
      return opened;
    });
  } finally {
    if (opened)
      await opened.then(
        (s) => s.dispose(),
        () => undefined,
      );
  }
}

/**
 * One `git ls-remote` (none for a pinned commit): the commit and revision the spec currently selects. With a cache,
 * calls for the same URL and credentials share one ls-remote: a running one, or (with `notBefore`, the caller's
 * ReconcileContext.requestedAt) one that started after the caller was asked for, so a push announced before the
 * request is never hidden (GitCache.listing).
 */
export function resolveSource(spec: GitSourceSpec, signal?: AbortSignal, notBefore?: number): Promise<ResolvedRef> {
  const p = prepare(spec);
  const options = { timeoutMs: spec.timeoutMs ?? defaultTimeoutMs, signal };
  const cache = spec.cache;
  return withLazySession(p, (session) => {
    const list = () => listRemote(session, p.url, options, direct(p), proxyTargetOf(p.proxy));
    if (!cache) return resolveRemote(session, p.url, p.strategy, options, list);
    const key = `ls-remote:${cache.keyOf(p.url, p.auth, p.proxy)}`;
    return resolveRemote(session, p.url, p.strategy, options, () => cache.listing(key, notBefore, list));
  });
}

/**
 * Whether fetchSource takes the object cache's path for this spec and resolved reference: named references only (a
 * pinned commit may need a fetch of every branch); no submodules, no sparse checkout, no verification: those need a
 * repository of their own.
 */
export function checksOutCached(spec: GitSourceSpec, target: ResolvedRef): boolean {
  return Boolean(
    spec.cache &&
      !target.pinned &&
      target.reference !== "" &&
      !spec.recurseSubmodules &&
      !spec.sparseCheckout?.length &&
      !spec.needsRepository,
  );
}

/** The GitCache key of the spec's URL, credentials and proxy (undefined without a cache). */
export function cacheKeyOf(spec: GitSourceSpec): string | undefined {
  if (!spec.cache) return undefined;
  const p = prepare(spec);
  return spec.cache.keyOf(p.url, p.auth, p.proxy);
}

/** Fetches the spec's reference into `dir` (which must not exist or be empty); resolves first unless given. */
export function fetchSource(
  spec: GitSourceSpec,
  dir: string,
  resolved?: ResolvedRef,
  signal?: AbortSignal,
): Promise<CheckoutResult> {
  const p = prepare(spec);
  const timeoutMs = spec.timeoutMs ?? defaultTimeoutMs;
  return withSession(p, async (session) => {
    const remote = { timeoutMs, signal };
    const target =
      resolved ??
      (await resolveRemote(session, p.url, p.strategy, remote, () =>
        listRemote(session, p.url, remote, direct(p), proxyTargetOf(p.proxy)),
      ));
    const options: CheckoutOptions = { timeoutMs, recurseSubmodules: spec.recurseSubmodules ?? false };
    if (signal) options.signal = signal;
    if (spec.sparseCheckout?.length) options.sparseCheckout = spec.sparseCheckout;
    const cache = spec.cache;
    if (cache && checksOutCached(spec, target)) {
      return checkoutCached(cache, cache.keyOf(p.url, p.auth, p.proxy), session, p.url, target, dir, options);
    }
    return checkoutResolved(session, p.url, target, dir, options);
  });
}
