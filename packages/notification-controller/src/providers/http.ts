// The one place notifiers touch the network: undici with a per-Provider dispatcher (custom CA, proxy) and a per-attempt
// timeout. Failures become DeliveryErrors that say whether a retry can help, and never carry a URL path or query
// (Telegram puts the bot token in the path; Slack and Discord webhook paths are credentials).
import { ProxyConfigError, type ProxyEnvironment, processProxy, proxyFor, proxyUrlWithLogin } from "@capstan/runtime";
import { Agent, type Dispatcher, fetch, ProxyAgent } from "undici";
import { eventIdHeaders } from "../events/event.js";

export interface HttpRequest {
  method: "GET" | "POST" | "PUT" | "PATCH";
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: string;
  /** The provider sent more than maxResponseBytes; `body` holds only the first part. */
  truncated?: boolean;
}

/** A provider's answer is read up to this size: enough for a page of 100 comments, not a way to exhaust memory. */
export const maxResponseBytes = 4 * 1024 * 1024;

export interface HttpTransport {
  send(request: HttpRequest, signal?: AbortSignal): Promise<HttpResponse>;
  close(): Promise<void>;
}

export class DeliveryError extends Error {
  override readonly name = "DeliveryError";
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    /** From a 429 (or 503) Retry-After header. */
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface TransportOptions {
  timeoutMs: number;
  caCert?: string;
  /** The Provider's proxy (spec.proxy or proxySecretRef); without it, the controller's environment decides per URL. */
  proxy?: string;
  /** (Tests) Proxy settings in place of the process's HTTPS_PROXY, HTTP_PROXY and NO_PROXY. */
  proxyEnv?: ProxyEnvironment;
}

/**
 * The proxy URL (credentials included, for undici's Proxy-Authorization) a request to `url` takes: the Provider's, else
 * the controller environment's as Flux's Go controllers read HTTPS_PROXY, HTTP_PROXY and NO_PROXY; undefined = direct.
 */
export function proxyOf(url: string, options: Pick<TransportOptions, "proxy" | "proxyEnv">): string | undefined {
  if (options.proxy) return options.proxy;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined; // fetch reports the URL
  }
  let target: ReturnType<typeof proxyFor>;
  try {
    target = proxyFor(parsed, options.proxyEnv ?? processProxy());
  } catch (err) {
    if (err instanceof ProxyConfigError) throw new DeliveryError(`controller environment: ${err.message}`, false);
    throw err;
  }
  if (!target) return undefined;
  if (target.url.protocol !== "http:" && target.url.protocol !== "https:") {
    throw new DeliveryError(
      `controller environment: a ${target.url.protocol.slice(0, -1)} proxy is not supported for notifications (http and https proxies are)`,
      false,
    );
  }
  return proxyUrlWithLogin(target);
}

export function createTransport(options: TransportOptions): HttpTransport {
  const connect = options.caCert ? { ca: options.caCert } : undefined;
  // One dispatcher per proxy in use ("" = direct): NO_PROXY can send a Provider's URLs different ways.
  const dispatchers = new Map<string, Dispatcher>();
  const dispatcherFor = (url: string): Dispatcher => {
    const proxy = proxyOf(url, options) ?? "";
    let dispatcher = dispatchers.get(proxy);
    if (!dispatcher) {
      dispatcher = proxy
        ? new ProxyAgent({ uri: proxy, ...(connect ? { requestTls: connect } : {}) })
        : new Agent(connect ? { connect } : {});
      dispatchers.set(proxy, dispatcher);
    }
    return dispatcher;
  };
  return {
    async send(request, signal) {
      const timeout = AbortSignal.timeout(options.timeoutMs);
      const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
      const where = `${request.method} ${origin(request.url)}`;
      const dispatcher = dispatcherFor(request.url);
      let res: Awaited<ReturnType<typeof fetch>>;
      try {
        res = await fetch(request.url, {
          method: request.method,
          headers: request.headers,
          ...(request.body !== undefined ? { body: request.body } : {}),
          dispatcher,
          signal: combined,
        });
      } catch (err) {
        if (timeout.aborted) throw new DeliveryError(`${where}: timed out after ${options.timeoutMs}ms`, true);
        if (signal?.aborted) throw new DeliveryError(`${where}: cancelled`, false);
        // The cause's message can name the address; keep only its code.
        throw new DeliveryError(`${where}: ${networkReason(err)}`, true);
      }
      const { body, truncated } = await readBounded(res.body, maxResponseBytes).catch(() => ({
        body: "",
        truncated: false,
      }));
      return {
        status: res.status,
        headers: res.headers as unknown as Headers,
        body,
        ...(truncated ? { truncated } : {}),
      };
    },
    async close() {
      await Promise.all([...dispatchers.values()].map((d) => d.close()));
    },
  };
}

async function readBounded(
  stream: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<{ body: string; truncated: boolean }> {
  if (!stream) return { body: "", truncated: false };
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > limit) {
      chunks.push(value.subarray(0, limit - size));
      truncated = true;
      await reader.cancel().catch(() => undefined);
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  return { body: Buffer.concat(chunks).toString("utf8"), truncated };
}

function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "<invalid URL>";
  }
}

function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string } }).cause;
  if (cause?.code) return `network error (${cause.code})`;
  return "network error";
}

/** Throws a DeliveryError unless the response is 2xx. 5xx, 408 and 429 are worth a retry; other 4xx are not. */
export function expectSuccess(request: HttpRequest, res: HttpResponse): void {
  if (res.status >= 200 && res.status < 300) return;
  const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
  const retryAfterMs = parseRetryAfter(res.headers.get("retry-after"));
  // The body of an error response is the provider's explanation; cap it so a hostile server cannot flood our Events.
  const detail = res.body.trim().slice(0, 200);
  throw new DeliveryError(
    `${request.method} ${origin(request.url)}: status ${res.status}${detail ? `: ${detail}` : ""}`,
    retryable,
    res.status,
    retryAfterMs,
  );
}

/** Retry-After is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

export async function sendExpectingSuccess(
  transport: HttpTransport,
  request: HttpRequest,
  signal?: AbortSignal,
): Promise<HttpResponse> {
  const res = await transport.send(request, signal);
  expectSuccess(request, res);
  return res;
}

export function jsonPost(url: string, payload: unknown, headers: Record<string, string> = {}): HttpRequest {
  return {
    method: "POST",
    url,
    headers: { "content-type": "application/json", ...headers },
    body: typeof payload === "string" ? payload : JSON.stringify(payload),
  };
}

/** A provider's JSON answer, refused when it was cut at maxResponseBytes or is not JSON (the message names `what`). */
export function parseJsonResponse(request: HttpRequest, res: HttpResponse, what: string): unknown {
  if (res.truncated) {
    throw new DeliveryError(
      `${request.method} ${origin(request.url)}: ${what} larger than ${maxResponseBytes} bytes`,
      false,
    );
  }
  try {
    return JSON.parse(res.body);
  } catch (cause) {
    throw new DeliveryError(
      `${request.method} ${origin(request.url)}: ${what} is not JSON`,
      false,
      res.status,
      undefined,
      {
        cause,
      },
    );
  }
}

export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

/**
 * The transport with the notification's id added to every request (X-Capstan-Event-Id and Idempotency-Key), so a
 * receiver can drop the copy a restart sends again. A header the Provider's Secret sets itself is left as it is.
 */
export function withEventId(transport: HttpTransport, id: string): HttpTransport {
  const extra = eventIdHeaders(id);
  return {
    send(request, signal) {
      const present = new Set(Object.keys(request.headers).map((k) => k.toLowerCase()));
      const headers = { ...request.headers };
      for (const [k, v] of Object.entries(extra)) if (!present.has(k)) headers[k] = v;
      return transport.send({ ...request, headers }, signal);
    },
    close: () => transport.close(),
  };
}
