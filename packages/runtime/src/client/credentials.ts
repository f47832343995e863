// Turns a KubeConfig into what each request needs: a keep-alive agent holding the TLS material, and auth headers.
// For the operator's own kubeconfig, its applyToHTTPSOptions does the resolving (certificates, tokens, token files;
// exec plugins through client-node, see config.ts); this keeps the result for a short while so a request does not re-read files, and
// refreshes it when the server says 401. A kubeconfig from a Secret is never given to client-node: it arrives as an
// InlineKubeconfig (validated, inline data only) and is turned into options here.
import http from "node:http";
import https from "node:https";
import type { LoadedKubeConfig } from "./config.js";
import type { InlineKubeconfig } from "./inline-kubeconfig.js";

export interface Credentials {
  server: URL;
  agent: http.Agent;
  headers: Record<string, string>;
}

const tlsFields = ["ca", "cert", "key", "pfx", "passphrase", "rejectUnauthorized", "servername"] as const;

export class CredentialSource {
  private current: { at: number; value: Promise<Credentials> } | undefined;
  private agent: { fingerprint: string; agent: http.Agent } | undefined;

  constructor(
    private readonly kc: LoadedKubeConfig | InlineKubeconfig,
    private readonly refreshMs = 10_000,
  ) {}

  get(): Promise<Credentials> {
    const now = Date.now();
    if (!this.current || now - this.current.at > this.refreshMs) {
      const value = this.resolve();
      this.current = { at: now, value };
      value.catch(() => {
        if (this.current?.value === value) this.current = undefined;
      });
    }
    return this.current.value;
  }

  /** Forget cached auth (after a 401, a rotated token may be waiting in its file). */
  invalidate(): void {
    this.current = undefined;
  }

  close(): void {
    this.agent?.agent.destroy();
    this.agent = undefined;
  }

  private async resolve(): Promise<Credentials> {
    if (!("applyToHTTPSOptions" in this.kc)) return this.fromInline(this.kc);
    const opts: https.RequestOptions = {};
    try {
      await this.kc.applyToHTTPSOptions(opts);
    } catch (cause) {
      // The cause may carry an exec plugin's output or a token file's content: keep only its code, never its text.
      const code = (cause as { code?: unknown }).code;
      throw new Error(
        `resolve credentials for ${this.kc.getCurrentCluster()?.server}: failed${typeof code === "string" ? ` (${code})` : ""}`,
      );
    }
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error("kubeconfig has no current cluster");
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      if (typeof v === "string") headers[k] = v;
      else if (typeof v === "number") headers[k] = String(v);
    }
    if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString("base64")}`;
    const server = new URL(cluster.server);
    return { server, agent: this.agentFor(server, opts), headers };
  }

  private fromInline(cfg: InlineKubeconfig): Credentials {
    const opts: https.RequestOptions = { rejectUnauthorized: !cfg.insecureSkipTlsVerify };
    if (cfg.ca) opts.ca = cfg.ca;
    if (cfg.cert && cfg.key) Object.assign(opts, { cert: cfg.cert, key: cfg.key });
    if (cfg.tlsServerName) opts.servername = cfg.tlsServerName;
    const headers: Record<string, string> = {};
    if (cfg.token) headers.Authorization = `Bearer ${cfg.token}`;
    else if (cfg.username !== undefined) {
      headers.Authorization = `Basic ${Buffer.from(`${cfg.username}:${cfg.password ?? ""}`).toString("base64")}`;
    }
    return { server: cfg.server, agent: this.agentFor(cfg.server, opts), headers };
  }

  // One agent per TLS identity: reused while the material is unchanged, replaced when a certificate rotates.
  private agentFor(server: URL, opts: https.RequestOptions): http.Agent {
    const tls: Record<string, unknown> = {};
    for (const f of tlsFields) if (opts[f] !== undefined) tls[f] = opts[f];
    const fingerprint = JSON.stringify(tls, (_k, v: unknown) =>
      Buffer.isBuffer(v) ? v.toString("base64") : (v as object),
    );
    if (this.agent?.fingerprint === fingerprint) return this.agent.agent;
    const old = this.agent?.agent;
    const base = { keepAlive: true, keepAliveMsecs: 30_000, maxSockets: 100, maxFreeSockets: 20 };
    const agent = server.protocol === "http:" ? new http.Agent(base) : new https.Agent({ ...base, ...tls });
    this.agent = { fingerprint, agent };
    // Let requests in flight on the old agent finish; idle sockets go now.
    if (old) setTimeout(() => old.destroy(), 120_000).unref();
    return agent;
  }
}
