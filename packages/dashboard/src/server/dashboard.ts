// Wiring shared by main.ts and the tests: the store (informers), auth, the HTTP server.
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import type { KubeClient, Logger } from "@capstan/runtime";
import { AccessReviewer } from "./auth/access.js";
import { TokenReviewer } from "./auth/authenticate.js";
import { type OidcOptions, OidcVerifier } from "./auth/oidc.js";
import { OidcLogin, type OidcLoginOptions } from "./auth/oidc-login.js";
import { Sessions } from "./auth/sessions.js";
import { createRouter } from "./http.js";
import { ClusterStore } from "./store.js";
import type { StreamOptions } from "./stream.js";

export interface DashboardOptions {
  client: KubeClient;
  /** Host to bind (default 127.0.0.1). */
  host?: string;
  /** Port (0: any free one). */
  port?: number;
  /** No login, the dashboard's own credentials: refused unless `host` is loopback. */
  insecureLocal?: boolean;
  /** Watch one namespace only. */
  namespace?: string;
  staticDir?: string;
  secureCookie?: boolean;
  logger?: Logger;
  /** How long a SubjectAccessReview answer is reused (default 10 s). */
  accessTtlMs?: number;
  stream?: StreamOptions;
  /** Renew an OIDC session's ID token this long before it expires (default 60 s). */
  sessionRefreshAheadMs?: number;
  /** Also accept OIDC ID tokens from this issuer, and offer login by redirect to it. */
  oidc?: OidcOptions & { login?: OidcLoginOptions };
}

export interface Dashboard {
  url: string;
  store: ClusterStore;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The built browser app: dist/app beside the compiled server, or the package's dist/app when run from source. */
export function defaultStaticDir(): string | undefined {
  for (const rel of ["../app", "../../dist/app"]) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}/index.html`)) return dir.replace(/\/$/, "");
  }
  return undefined;
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? "127.0.0.1";
  if (options.insecureLocal && !isLoopback(host)) {
    throw new Error(`--insecure-local needs a loopback address (127.0.0.1, ::1, localhost), not ${host}`);
  }
  const { client, logger } = options;
  const store = new ClusterStore({
    client,
    ...(logger ? { logger } : {}),
    ...(options.namespace ? { namespace: options.namespace } : {}),
  });
  await store.start();
  const oidc = options.oidc ? new OidcVerifier(options.oidc) : undefined;
  const reviewer = new TokenReviewer({ client, ...(oidc ? { oidc } : {}) });
  const router = createRouter({
    client,
    store,
    access: new AccessReviewer({
      client,
      ...(options.accessTtlMs !== undefined ? { ttlMs: options.accessTtlMs } : {}),
    }),
    reviewer,
    sessions: new Sessions(reviewer, {
      ...(options.oidc?.now ? { now: options.oidc.now } : {}),
      ...(options.sessionRefreshAheadMs !== undefined ? { refreshAheadMs: options.sessionRefreshAheadMs } : {}),
      onRefreshError: (user, err) =>
        logger?.error(
          { user, error: err.message, cause: (err.cause as Error | undefined)?.message },
          "oidc refresh failed",
        ),
    }),
    insecureLocal: options.insecureLocal ?? false,
    staticDir: options.staticDir ?? defaultStaticDir(),
    secureCookie: options.secureCookie ?? false,
    ...(logger ? { logger } : {}),
    ...(options.stream ? { stream: options.stream } : {}),
    ...(oidc ? { oidcLogin: new OidcLogin(oidc, options.oidc?.login) } : {}),
  });
  const server: Server = createServer(router.handle);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shown}:${addr.port}`,
    store,
    close: async () => {
      router.closeStreams();
      store.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
