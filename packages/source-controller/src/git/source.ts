// The entry points the reconciler uses: resolve the spec's reference remotely, and fetch it into a directory. Each
// call opens its own credential session and removes it afterwards.
import type { GitAuth, ProxyConfig, SecretData } from "./auth.js";
import { authFromSecret, checkProvider, parseRemoteUrl, proxyFromSecret } from "./auth.js";
import { type CheckoutOptions, type CheckoutResult, checkoutResolved } from "./checkout.js";
import { type CheckoutStrategy, checkoutStrategy, type GitRepositoryRef } from "./reference.js";
import { type ResolvedRef, resolveRemote } from "./remote.js";
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
}

export const defaultTimeoutMs = 60_000;

interface Prepared {
  url: string;
  auth: GitAuth;
  proxy?: ProxyConfig;
  strategy: CheckoutStrategy;
}

/** Validates the spec (URL, provider, credentials, proxy) before any process runs. */
export function prepare(spec: GitSourceSpec): Prepared {
  checkProvider(spec.provider);
  const url = parseRemoteUrl(spec.url);
  const auth = authFromSecret(url, spec.secret);
  const prepared: Prepared = { url: spec.url, auth, strategy: checkoutStrategy(spec.ref) };
  if (spec.proxySecret) prepared.proxy = proxyFromSecret(spec.proxySecret);
  return prepared;
}

async function withSession<T>(p: Prepared, fn: (session: GitSession) => Promise<T>): Promise<T> {
  const session = await openSession(p.auth, p.proxy);
  try {
    return await fn(session);
  } finally {
    await session.dispose();
  }
}

/** One `git ls-remote` (none for a pinned commit): the commit and revision the spec currently selects. */
export function resolveSource(spec: GitSourceSpec, signal?: AbortSignal): Promise<ResolvedRef> {
  const p = prepare(spec);
  return withSession(p, (session) =>
    resolveRemote(session, p.url, p.strategy, { timeoutMs: spec.timeoutMs ?? defaultTimeoutMs, signal }),
  );
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
    const target = resolved ?? (await resolveRemote(session, p.url, p.strategy, { timeoutMs, signal }));
    const options: CheckoutOptions = { timeoutMs, recurseSubmodules: spec.recurseSubmodules ?? false };
    if (signal) options.signal = signal;
    if (spec.sparseCheckout?.length) options.sparseCheckout = spec.sparseCheckout;
    return checkoutResolved(session, p.url, target, dir, options);
  });
}
