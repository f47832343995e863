// One bounded HTTP(S) GET for Helm repositories (index.yaml, chart tarballs): a deadline for the whole exchange, a
// byte cap enforced while reading (a lying or missing Content-Length does not help a hostile server), a few
// redirects, basic auth sent only to the repository's own host unless passCredentials says otherwise (Helm's rule),
// and TLS with the CA and client certificate of the HelmRepository's certSecretRef.
import { type Agent, request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { ProxyConfigError, type ProxyEnvironment, processProxy, proxyAgent, proxyFor } from "@capstan/runtime";
import { scrub } from "../scrub.js";

export interface HelmHttpOptions {
  username?: string;
  password?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  timeoutMs: number;
  maxBytes: number;
  /** host:port the credentials belong to (the repository URL's); others get them only with passCredentials. */
  authHost?: string;
  passCredentials?: boolean;
  signal?: AbortSignal;
  /** (Tests) Proxy settings in place of the process's HTTPS_PROXY, HTTP_PROXY and NO_PROXY. */
  proxyEnv?: ProxyEnvironment;
}

export type HelmFetchErrorKind = "url" | "unreachable" | "timeout" | "auth" | "notFound" | "status" | "tooLarge";

export class HelmFetchError extends Error {
  readonly kind: HelmFetchErrorKind;
  constructor(kind: HelmFetchErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HelmFetchError";
    this.kind = kind;
  }
}

const maxRedirects = 5;

/** The URL as shown in messages: no userinfo, no query (a signed URL's query is a credential). */
export function displayUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

export async function httpGet(target: string, o: HelmHttpOptions): Promise<Buffer> {
  let url: URL;
  try {
    url = new URL(target);
  } catch (cause) {
    throw new HelmFetchError("url", `invalid URL '${scrub(target)}'`, { cause });
  }
  const deadline = Date.now() + o.timeoutMs;
  for (let hop = 0; hop <= maxRedirects; hop++) {
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new HelmFetchError("url", `unsupported URL scheme '${url.protocol}' in '${displayUrl(url)}'`);
    }
    const res = await get(url, o, deadline);
    const status = res.response.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.response.headers.location) {
      res.response.resume();
      url = new URL(res.response.headers.location, url);
      continue;
    }
    if (status === 401 || status === 403) {
      res.response.resume();
      throw new HelmFetchError("auth", `failed to fetch ${displayUrl(url)} : ${status} ${statusText(status)}`);
    }
    if (status === 404) {
      res.response.resume();
      throw new HelmFetchError("notFound", `failed to fetch ${displayUrl(url)} : 404 Not Found`);
    }
    if (status !== 200) {
      res.response.resume();
      throw new HelmFetchError("status", `failed to fetch ${displayUrl(url)} : ${status} ${statusText(status)}`);
    }
    return await readBody(res.response, url, o, res.cancel);
  }
  throw new HelmFetchError("status", `failed to fetch ${displayUrl(url)}: more than ${maxRedirects} redirects`);
}

function statusText(status: number): string {
  return { 401: "Unauthorized", 403: "Forbidden", 500: "Internal Server Error" }[status] ?? "";
}

interface Pending {
  response: IncomingMessage;
  cancel: () => void;
}

/**
 * The agent of a request through the proxy the controller's environment gives this URL (Go's rule, as Flux's
 * source-controller reads HTTPS_PROXY, HTTP_PROXY and NO_PROXY), or undefined to go direct. Each hop of a redirect
 * decides again.
 */
function agentFor(url: URL, o: HelmHttpOptions): Agent | undefined {
  try {
    const proxy = proxyFor(url, o.proxyEnv ?? processProxy());
    return proxy ? proxyAgent(url, proxy) : undefined;
  } catch (err) {
    if (err instanceof ProxyConfigError) {
      throw new HelmFetchError("unreachable", `controller environment: ${err.message}`);
    }
    throw err;
  }
}

function get(url: URL, o: HelmHttpOptions, deadline: number): Promise<Pending> {
  const agent = agentFor(url, o);
  return new Promise<Pending>((resolve, reject) => {
    const headers: Record<string, string> = { "user-agent": "capstan-source-controller", accept: "*/*" };
    const sameHost = !o.authHost || o.authHost === url.host;
    if (o.username !== undefined && o.password !== undefined && (sameHost || o.passCredentials)) {
      headers.authorization = `Basic ${Buffer.from(`${o.username}:${o.password}`).toString("base64")}`;
    }
    const tls =
      url.protocol === "https:"
        ? { ...(o.ca ? { ca: o.ca } : {}), ...(o.cert && o.key ? { cert: o.cert, key: o.key } : {}) }
        : {};
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    let settled = false;
    const req = send(url, { method: "GET", headers, ...tls, ...(agent ? { agent } : {}) }, (response) => {
      settled = true;
      resolve({ response, cancel: () => req.destroy() });
    });
    const left = Math.max(1, deadline - Date.now());
    const timer = setTimeout(() => {
      req.destroy(
        new HelmFetchError("timeout", `timeout after ${Math.round(left / 1000)}s fetching ${displayUrl(url)}`),
      );
    }, left);
    req.on("close", () => clearTimeout(timer)); // a proxy agent keeps no socket alive: nothing else to free
    const onAbort = () => req.destroy(new HelmFetchError("timeout", `fetching ${displayUrl(url)}: aborted`));
    o.signal?.addEventListener("abort", onAbort, { once: true });
    req.on("close", () => o.signal?.removeEventListener("abort", onAbort));
    req.on("error", (err) => {
      if (settled) return;
      if (err instanceof HelmFetchError) reject(err);
      else
        reject(
          new HelmFetchError("unreachable", `failed to fetch ${displayUrl(url)} : ${describe(err)}`, { cause: err }),
        );
    });
    req.end();
  });
}

function describe(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code ? `${code} ${err.message.replace(code, "").trim()}`.trim() : err.message;
}

function readBody(res: IncomingMessage, url: URL, o: HelmHttpOptions, cancel: () => void): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const declared = Number(res.headers["content-length"]);
    const tooLarge = () =>
      new HelmFetchError("tooLarge", `${displayUrl(url)} exceeds the maximum size of ${o.maxBytes} bytes`);
    if (Number.isFinite(declared) && declared > o.maxBytes) {
      cancel();
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    res.on("data", (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > o.maxBytes) {
        done = true;
        cancel();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    res.on("end", () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks));
    });
    res.on("error", (err) => {
      if (done) return;
      done = true;
      reject(
        err instanceof HelmFetchError
          ? err
          : new HelmFetchError("unreachable", `reading ${displayUrl(url)}: ${describe(err)}`, { cause: err }),
      );
    });
    res.on("close", () => {
      if (done) return;
      done = true;
      reject(new HelmFetchError("unreachable", `reading ${displayUrl(url)}: connection closed`));
    });
  });
}
