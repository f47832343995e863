// A small client of the OCI distribution API: what an OCIRepository needs (resolve a reference, read a manifest, list
// tags, download one blob) over node:http(s), with the auth flows registries use: a 401 carrying
// `WWW-Authenticate: Bearer realm=...,service=...,scope=...` is answered by fetching a token from the realm (with the
// credentials as basic auth, anonymously without), a `Basic` challenge with the credentials. Everything read is
// bounded (bytes, pages, redirects, time); credentials and tokens never appear in an error message. With a
// RegistryAuthCache the challenge and the tokens outlive the client: the next reconcile sends a token still valid at
// once (one manifest request, no token request), or fetches one before its first request instead of meeting a 401.
// Credentials go to the registry's origin and to a checked token realm (realm.ts) only, never across a redirect to
// another origin, and a 401 from another origin (after a redirect) is not answered.
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { BlockList } from "node:net";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  ProxyConfigError,
  type ProxyEnvironment,
  type ProxyTarget,
  processProxy,
  proxyAgent,
  proxyFor,
} from "@capstan/runtime";
import { scrub } from "../scrub.js";
import type { RegistryCredentials, RegistryTls } from "./auth.js";
import type { RegistryAuthCache } from "./auth-cache.js";
import { OciError } from "./errors.js";
import { checkRealm, defaultBlockedRealmAddresses, isBlockedAddress, realmLookup, sameHost } from "./realm.js";
import { digestPattern } from "./reference.js";

export const manifestMediaTypes = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
} as const;
const acceptManifests = Object.values(manifestMediaTypes).join(", ");

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface Manifest {
  mediaType?: string;
  /** The config descriptor, when the manifest has a well-formed one (Helm charts are told apart by its media type). */
  config?: Descriptor;
  layers: Descriptor[];
  annotations: Record<string, string>;
}

export interface RegistryClientOptions {
  host: string;
  repository: string;
  plainHttp: boolean;
  credentials?: RegistryCredentials;
  tls?: RegistryTls;
  signal?: AbortSignal;
  userAgent?: string;
  /** Challenges and tokens shared between clients of one process (Capstan); none: each client starts afresh. */
  authCache?: RegistryAuthCache;
  /** Addresses a token realm on another host may not resolve to (realm.ts has the default; tests relax it). */
  blockedRealmAddresses?: BlockList;
  /** (Tests) Proxy settings in place of the process's HTTPS_PROXY, HTTP_PROXY and NO_PROXY. */
  proxyEnv?: ProxyEnvironment;
  /** spec.proxySecretRef's proxy: every request goes through it, whatever the environment says. */
  proxy?: ProxyTarget;
}

const maxManifestBytes = 4 * 1024 * 1024;
const defaultBlocked = defaultBlockedRealmAddresses();

/** The token response cap oras-go (and so Flux) applies: real tokens are a few KiB. */
export const maxTokenBytes = 128 * 1024;
/** What may follow `Bearer ` in a header: visible ASCII, no spaces (RFC 6750's b64token is narrower still). */
const tokenPattern = /^[\x21-\x7e]+$/;
const maxTagPages = 50;
const maxRedirects = 5;

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses one WWW-Authenticate challenge: `Bearer realm="...",service="...",scope="..."`. */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!m?.[1]) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  for (const p of (m[2] ?? "").matchAll(re)) {
    if (p[1]) params[p[1].toLowerCase()] = (p[2] ?? p[3] ?? "").replace(/\\(.)/g, "$1");
  }
  return { scheme: m[1].toLowerCase(), params };
}

/** Reads a body within `max` bytes; a body cut off (timeout, reset) rejects with what `failed` makes of it. */
async function readBounded(
  res: IncomingMessage,
  max: number,
  what: string,
  failed: (err: Error) => Error = (err) => err,
  kind: "pull" | "auth" = "pull",
): Promise<Buffer> {
  const declared = Number(res.headers["content-length"] ?? "0");
  if (declared > max) {
    res.destroy();
    throw new OciError(kind, `${what} is larger than ${max} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res) {
      size += (chunk as Buffer).length;
      if (size > max) {
        res.destroy();
        throw new OciError(kind, `${what} is larger than ${max} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof OciError) throw err;
    throw failed(err as Error);
  }
  return Buffer.concat(chunks);
}

const originOf = (u: URL) => `${u.protocol}//${u.host}`;

/** The registry's error code and message from a JSON error body, for a message a user can act on. */
async function registryError(res: IncomingMessage): Promise<string> {
  try {
    const body = JSON.parse((await readBounded(res, 16 * 1024, "error body")).toString("utf8")) as {
      errors?: { code?: unknown; message?: unknown }[];
    };
    const first = body.errors?.[0];
    if (first && typeof first.code === "string") {
      const message = typeof first.message === "string" ? `: ${first.message.slice(0, 200)}` : "";
      return ` (${first.code}${message})`;
    }
  } catch {
    // Not JSON, or cut off: the status alone says enough.
  }
  return "";
}

export class RegistryClient {
  private authorization: string | undefined;
  private readonly https: HttpsAgent;
  private readonly http: HttpAgent;
  /** Agents through the environment's proxy, by target scheme and proxy. */
  private readonly proxied = new Map<string, HttpAgent>();
  private readonly secrets: string[];
  private readonly identity: string | undefined;
  /** Where each response came from after redirects: a 401 from another origin is not answered. */
  private readonly finalUrl = new WeakMap<IncomingMessage, URL>();

  constructor(private readonly o: RegistryClientOptions) {
    this.https = new HttpsAgent({
      keepAlive: true,
      maxSockets: 4,
      ...(o.tls?.ca ? { ca: o.tls.ca } : {}),
      ...(o.tls?.cert ? { cert: o.tls.cert } : {}),
      ...(o.tls?.key ? { key: o.tls.key } : {}),
    });
    this.http = new HttpAgent({ keepAlive: true, maxSockets: 4 });
    this.secrets = o.credentials ? [o.credentials.password] : [];
    this.identity = o.authCache?.identity({
      plainHttp: o.plainHttp,
      host: o.host,
      credentials: o.credentials,
      tls: o.tls,
    });
  }

  close(): void {
    this.https.destroy();
    this.http.destroy();
    for (const agent of this.proxied.values()) agent.destroy();
  }

  /**
   * The agent for a request to `target`: through the proxy the controller's environment gives this URL (Go's rule, as
   * Flux's source-controller reads HTTPS_PROXY, HTTP_PROXY and NO_PROXY; every redirect hop decides again), else the
   * client's own.
   */
  private agentFor(target: URL): { agent: HttpAgent; proxied: boolean } {
    const isHttps = target.protocol === "https:";
    try {
      const proxy = this.o.proxy ?? proxyFor(target, this.o.proxyEnv ?? processProxy());
      if (!proxy) return { agent: isHttps ? this.https : this.http, proxied: false };
      const key = `${target.protocol}${proxy.url.href}`;
      let agent = this.proxied.get(key);
      if (!agent) {
        const tls = this.o.tls;
        agent = proxyAgent(target, proxy, {
          keepAlive: true,
          maxSockets: 4,
          ...(isHttps && tls?.ca ? { ca: tls.ca } : {}),
          ...(isHttps && tls?.cert ? { cert: tls.cert } : {}),
          ...(isHttps && tls?.key ? { key: tls.key } : {}),
        });
        this.proxied.set(key, agent);
      }
      return { agent, proxied: true };
    } catch (err) {
      if (err instanceof ProxyConfigError) throw new OciError("pull", `controller environment: ${err.message}`);
      throw err;
    }
  }

  private base(): string {
    return `${this.o.plainHttp ? "http" : "https"}://${this.o.host}/v2/${this.o.repository}`;
  }

  /**
   * One request, following redirects (blob downloads go to storage backends). Authorization goes to `origin` only
   * (the registry's, or the token realm's): a redirect elsewhere, or from https to http, drops it.
   */
  private send(
    method: string,
    url: string,
    headers: Record<string, string>,
    origin: string,
    guard?: BlockList,
    redirects = 0,
  ): Promise<IncomingMessage> {
    const target = new URL(url);
    if (guard && isBlockedAddress(target.hostname, guard)) {
      return Promise.reject(new OciError("auth", `token request redirected to ${target.hostname}, a blocked address`));
    }
    const h: Record<string, string> = { "user-agent": this.o.userAgent ?? "capstan-source-controller", ...headers };
    if (originOf(target) !== origin) delete h.authorization;
    const isHttps = target.protocol === "https:";
    if (!isHttps && target.protocol !== "http:") {
      return Promise.reject(new OciError("pull", `refusing to follow a redirect to a ${target.protocol} URL`));
    }
    let route: { agent: HttpAgent; proxied: boolean };
    try {
      route = this.agentFor(target);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = (isHttps ? httpsRequest : httpRequest)(
        target,
        {
          method,
          headers: h,
          agent: route.agent,
          // Through a proxy the proxy resolves the name: only the literal-address check above applies then.
          ...(guard && !route.proxied ? { lookup: realmLookup(guard) } : {}),
          ...(this.o.signal ? { signal: this.o.signal } : {}),
        },
        resolve,
      );
      req.on("error", (err) =>
        reject(origin === this.registryOrigin() ? this.networkError(err) : this.networkError(err, target.host, "auth")),
      );
      req.end();
    }).then((res) => {
      const status = res.statusCode ?? 0;
      if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
        res.resume();
        if (redirects >= maxRedirects) throw new OciError("pull", `too many redirects from ${this.o.host}`);
        return this.send(method, new URL(res.headers.location, target).toString(), h, origin, guard, redirects + 1);
      }
      this.finalUrl.set(res, target);
      return res;
    });
  }

  /** A failed request as a condition message: to the registry (or where it redirected), or to its token service. */
  private networkError(err: Error, tokenHost?: string, kind: "pull" | "auth" = "pull"): OciError {
    const whom = tokenHost ? `token service ${tokenHost}` : `registry ${this.o.host}`;
    if (err.name === "AbortError" || this.o.signal?.aborted) {
      return new OciError(kind, `request to ${whom} timed out (spec.timeout) or was cancelled`, { cause: err });
    }
    const code = (err as NodeJS.ErrnoException).code;
    const detail = scrub(code ? `${code}: ${err.message}` : err.message, this.secrets);
    return new OciError(kind, `cannot reach ${whom}: ${detail}`, { cause: err });
  }

  private registryOrigin(): string {
    return `${this.o.plainHttp ? "http" : "https"}://${this.o.host}`;
  }

  private readonly bodyError = (err: Error) => this.networkError(err);

  /**
   * A registry request with the auth flow: what the cache already knows is sent at once; on a 401 the challenge is
   * answered once (a fresh token), then the request retried.
   */
  private async call(method: string, url: string, headers: Record<string, string> = {}): Promise<IncomingMessage> {
    const withAuth = () => (this.authorization ? { ...headers, authorization: this.authorization } : headers);
    const origin = this.registryOrigin();
    this.authorization ??= await this.known();
    let res = await this.send(method, url, withAuth(), origin);
    if (res.statusCode !== 401) return res;
    res.resume();
    const from = this.finalUrl.get(res);
    if (from && originOf(from) !== origin) {
      throw new OciError("auth", `a redirect from ${this.o.host} led to ${from.host}, which asked for authentication`);
    }
    const challenge = parseChallenge(String(res.headers["www-authenticate"] ?? ""));
    this.authorization = await this.answer(challenge);
    res = await this.send(method, url, withAuth(), origin);
    if (res.statusCode === 401 || res.statusCode === 403) {
      res.resume();
      throw new OciError(
        "auth",
        this.o.credentials
          ? `authentication to ${this.o.host} failed: the registry refused the credentials (${res.statusCode})`
          : `authentication to ${this.o.host} required: set spec.secretRef or the ServiceAccount's imagePullSecrets`,
      );
    }
    return res;
  }

  private basic(): string | undefined {
    const c = this.o.credentials;
    return c ? `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}` : undefined;
  }

  private defaultScope(): string {
    return `repository:${this.o.repository}:pull`;
  }

  /** The Authorization the cache lets this client send before any 401: basic credentials, or a token (cached/new). */
  private async known(): Promise<string | undefined> {
    const cache = this.o.authCache;
    const challenge = this.identity ? cache?.challenge(this.identity) : undefined;
    if (!challenge) return undefined;
    if (challenge.scheme === "basic") return this.basic();
    if (!challenge.realm) return undefined;
    return this.bearer(challenge.realm, challenge.service, this.defaultScope(), false);
  }

  private async answer(challenge: Challenge | undefined): Promise<string | undefined> {
    if (challenge?.scheme === "basic") {
      if (this.identity) this.o.authCache?.setChallenge(this.identity, { scheme: "basic" });
      const basic = this.basic();
      if (!basic)
        throw new OciError(
          "auth",
          `authentication to ${this.o.host} required: set spec.secretRef or the ServiceAccount's imagePullSecrets`,
        );
      return basic;
    }
    if (challenge?.scheme !== "bearer" || !challenge.params.realm) {
      throw new OciError("auth", `registry ${this.o.host} answered 401 without a usable WWW-Authenticate challenge`);
    }
    const { realm, service } = challenge.params;
    checkRealm(realm, this.o.host, this.o.plainHttp, this.o.blockedRealmAddresses);
    if (this.identity) {
      this.o.authCache?.setChallenge(this.identity, { scheme: "bearer", realm, ...(service ? { service } : {}) });
    }
    return this.bearer(realm, service, challenge.params.scope || this.defaultScope(), true);
  }

  /**
   * A token for `scope` from the realm: the cached one unless `fresh` (the registry just refused what was sent),
   * else one fetched with the credentials as basic auth (anonymously without), within the token response cap and the
   * client's signal (spec.timeout).
   */
  private async bearer(realmUrl: string, service: string | undefined, scope: string, fresh: boolean) {
    const cache = this.o.authCache;
    const id = this.identity;
    if (cache && id) {
      if (fresh) cache.dropToken(id, scope);
      else {
        const cached = cache.token(id, scope);
        if (cached) {
          this.secrets.push(cached);
          return `Bearer ${cached}`;
        }
      }
    }
    const realm = checkRealm(realmUrl, this.o.host, this.o.plainHttp, this.o.blockedRealmAddresses);
    // On another host than the registry's, the addresses it resolves to are checked as the connection is made.
    const guard = sameHost(realm, this.o.host) ? undefined : (this.o.blockedRealmAddresses ?? defaultBlocked);
    if (service) realm.searchParams.set("service", service);
    realm.searchParams.set("scope", scope);
    const basic = this.basic();
    const tokenFailed = (err: Error) => this.networkError(err, realm.host, "auth");
    const res = await this.send("GET", realm.toString(), basic ? { authorization: basic } : {}, originOf(realm), guard);
    if (res.statusCode === 401 || res.statusCode === 403) {
      res.resume();
      throw new OciError(
        "auth",
        `authentication to ${this.o.host} failed: the token service refused the credentials (${res.statusCode})`,
      );
    }
    if (res.statusCode !== 200) {
      res.resume();
      throw new OciError("auth", `token service of ${this.o.host} answered ${res.statusCode}`);
    }
    const body = await readBounded(res, maxTokenBytes, `token response from ${realm.host}`, tokenFailed, "auth");
    let token: unknown;
    let expiresIn: unknown;
    try {
      const parsed = JSON.parse(body.toString("utf8")) as {
        token?: unknown;
        access_token?: unknown;
        expires_in?: unknown;
      };
      token = parsed.access_token || parsed.token;
      expiresIn = parsed.expires_in;
    } catch (cause) {
      throw new OciError("auth", `token service of ${this.o.host} answered with invalid JSON`, { cause });
    }
    if (typeof token !== "string" || !token)
      throw new OciError("auth", `token service of ${this.o.host} returned no token`);
    if (!tokenPattern.test(token)) {
      throw new OciError("auth", `token service of ${this.o.host} returned a token that is not a valid header value`);
    }
    this.secrets.push(token);
    if (cache && id) cache.setToken(id, scope, token, expiresIn);
    return `Bearer ${token}`;
  }

  private async failure(res: IncomingMessage, what: string): Promise<OciError> {
    const detail = await registryError(res);
    if (res.statusCode === 404) return new OciError("pull", `${what}: not found${detail}`);
    if (res.statusCode === 403) return new OciError("auth", `${what}: access denied (403)${detail}`);
    return new OciError("pull", `${what}: registry answered ${res.statusCode}${detail}`);
  }

  /** The manifest digest a tag (or digest) points at: one HEAD, or a GET when the registry sends no digest header. */
  async resolve(reference: string): Promise<string> {
    const url = `${this.base()}/manifests/${reference}`;
    const what = `failed to resolve '${this.o.repository}:${reference}'`;
    const head = await this.call("HEAD", url, { accept: acceptManifests });
    head.resume();
    if (head.statusCode === 200) {
      const digest = String(head.headers["docker-content-digest"] ?? "");
      if (digestPattern.test(digest)) return digest;
    } else if (head.statusCode !== 405) {
      throw await this.failure(head, what);
    }
    const get = await this.call("GET", url, { accept: acceptManifests });
    if (get.statusCode !== 200) throw await this.failure(get, what);
    const body = await readBounded(get, maxManifestBytes, "manifest", this.bodyError);
    return `sha256:${createHash("sha256").update(body).digest("hex")}`;
  }

  /** The manifest by digest, checked against it; an index or an unknown media type is refused. */
  async manifest(digest: string): Promise<Manifest> {
    const res = await this.call("GET", `${this.base()}/manifests/${digest}`, { accept: acceptManifests });
    if (res.statusCode !== 200) throw await this.failure(res, `failed to pull manifest ${digest}`);
    const body = await readBounded(res, maxManifestBytes, "manifest", this.bodyError);
    const actual = `sha256:${createHash("sha256").update(body).digest("hex")}`;
    if (actual !== digest) {
      throw new OciError("pull", `manifest digest mismatch: expected ${digest}, the registry sent ${actual}`);
    }
    let parsed: { mediaType?: unknown; config?: unknown; layers?: unknown; manifests?: unknown; annotations?: unknown };
    try {
      parsed = JSON.parse(body.toString("utf8")) as typeof parsed;
    } catch (cause) {
      throw new OciError("pull", `manifest ${digest} is not valid JSON`, { cause });
    }
    const mediaType =
      typeof parsed.mediaType === "string" ? parsed.mediaType : String(res.headers["content-type"] ?? "");
    if (mediaType === manifestMediaTypes.ociIndex || mediaType === manifestMediaTypes.dockerList || parsed.manifests) {
      throw new OciError(
        "pull",
        `${digest} is an image index: an OCIRepository needs an artifact manifest with layers`,
      );
    }
    if (!Array.isArray(parsed.layers)) throw new OciError("pull", `manifest ${digest} has no layers`);
    const layers: Descriptor[] = [];
    for (const l of parsed.layers as unknown[]) {
      const d = l as Partial<Descriptor>;
      if (typeof d.mediaType !== "string" || typeof d.digest !== "string" || typeof d.size !== "number" || d.size < 0) {
        throw new OciError("pull", `manifest ${digest} has a malformed layer descriptor`);
      }
      layers.push({ mediaType: d.mediaType, digest: d.digest, size: d.size });
    }
    const annotations: Record<string, string> = {};
    if (parsed.annotations && typeof parsed.annotations === "object") {
      for (const [k, v] of Object.entries(parsed.annotations as Record<string, unknown>)) {
        if (typeof v === "string") annotations[k] = v;
      }
    }
    const c = parsed.config as Partial<Descriptor> | undefined;
    const config =
      c && typeof c.mediaType === "string" && typeof c.digest === "string" && typeof c.size === "number"
        ? { mediaType: c.mediaType, digest: c.digest, size: c.size }
        : undefined;
    return { mediaType, ...(config ? { config } : {}), layers, annotations };
  }

  /** Every tag of the repository, following Link pagination (bounded). */
  async tags(): Promise<string[]> {
    const out: string[] = [];
    let next: string | undefined = `${this.base()}/tags/list?n=1000`;
    for (let page = 0; next && page < maxTagPages; page++) {
      const res = await this.call("GET", next);
      if (res.statusCode !== 200) throw await this.failure(res, `failed to list tags of '${this.o.repository}'`);
      const link = String(res.headers.link ?? "");
      const body = JSON.parse(
        (await readBounded(res, maxManifestBytes, "tag list", this.bodyError)).toString("utf8"),
      ) as {
        tags?: unknown;
      };
      if (Array.isArray(body.tags)) out.push(...body.tags.filter((t): t is string => typeof t === "string"));
      const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(link);
      next = m?.[1] ? new URL(m[1], next).toString() : undefined;
    }
    return out;
  }

  /**
   * Streams a blob into `file`, refusing more than `maxBytes` (checked against the descriptor before any download
   * and against the bytes while they arrive), and checks its size and digest against the descriptor.
   */
  async downloadBlob(layer: Descriptor, file: string, maxBytes: number): Promise<void> {
    if (!digestPattern.test(layer.digest)) throw new OciError("layer", `layer digest '${layer.digest}' is not sha256`);
    if (layer.size > maxBytes) {
      throw new OciError("layer", `layer ${layer.digest} is ${layer.size} bytes, over the limit of ${maxBytes} bytes`);
    }
    const res = await this.call("GET", `${this.base()}/blobs/${layer.digest}`);
    if (res.statusCode !== 200) throw await this.failure(res, `failed to pull layer ${layer.digest}`);
    const hash = createHash("sha256");
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > maxBytes || size > layer.size) {
          done(
            new OciError(
              "layer",
              `layer ${layer.digest} is larger than its descriptor says or over the limit of ${maxBytes} bytes`,
            ),
          );
          return;
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(res, meter, createWriteStream(file, { mode: 0o600 }));
    } catch (err) {
      if (err instanceof OciError) throw err;
      throw this.networkError(err as Error);
    }
    const actual = `sha256:${hash.digest("hex")}`;
    if (size !== layer.size || actual !== layer.digest) {
      throw new OciError(
        "pull",
        `layer digest mismatch: expected ${layer.digest} (${layer.size} bytes), got ${actual} (${size} bytes)`,
      );
    }
  }
}
