// The HTTP layer under KubeClient: rate limiting, credentials, impersonation, retries that are always safe (429 with
// Retry-After, one retry after a 401 with refreshed credentials), request counting, and error decoding.
// API Priority and Fairness: an apiserver that runs it names the FlowSchema and priority level that classified each
// request in response headers. The first response carrying one switches the client-side token bucket off, since the
// server paces its clients itself and does it better (Flux's controllers make the same check once at start and then
// run with QPS and burst -1). A server without APF keeps the bucket (--kube-api-qps / --kube-api-burst).
import http from "node:http";
import https from "node:https";
import { createInterface } from "node:readline";
import type { CredentialSource } from "./credentials.js";
import { decodeApiError } from "./errors.js";
import type { TokenBucket } from "./rate-limiter.js";

/** What the request counter hook sees: one call per HTTP response (code 0 when no response arrived). */
export interface RequestInfo {
  method: string;
  /** get, list, watch, apply, patch, create, delete, discovery */
  verb: string;
  /** Resource plural with subresource ("deployments", "gitrepositories/status"); "" for discovery. */
  resource: string;
  code: number;
}
export type RequestHook = (info: RequestInfo) => void;

export interface Impersonation {
  user: string;
  groups?: string[];
}

export interface TransportRequest {
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  path: string; // with query string
  verb: string;
  resource: string;
  /** What the caller was doing, for error messages: "apply Deployment/apps/web". */
  action: string;
  body?: string;
  contentType?: string;
  accept?: string;
}

/** Shared by a client and the transports derived from it (impersonation): what was learnt about the server. */
export interface FlowControl {
  /** A response carried API Priority and Fairness headers. */
  detected: boolean;
  /** Called once, when the first such response arrives. */
  onDetected?: () => void;
}

export interface TransportOptions {
  credentials: CredentialSource;
  limiter: TokenBucket;
  flowControl: FlowControl;
  /** Aborted by close(): ends retry waits. Shared with derived transports. */
  closed: AbortSignal;
  /** Waits between retries; tests inject one that records instead of waiting. Rejects when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  userAgent: string;
  requestTimeoutMs: number;
  onRequest?: RequestHook | undefined;
  impersonation?: Impersonation | undefined;
}

// client-go retries a 429 that says when (Retry-After), whatever the verb: the server refused the request before
// acting on it, so even a POST is safe to repeat. Bounded here in count and in wait, as a hostile or confused server
// must not park a worker for an hour.
export const maxThrottleRetries = 3;
export const maxRetryAfterMs = 60_000;
/** The response headers an apiserver with API Priority and Fairness sets (lowercase, as Node exposes them). */
const flowControlHeaders = ["x-kubernetes-pf-flowschema-uid", "x-kubernetes-pf-prioritylevel-uid"];

export class Transport {
  constructor(private readonly o: TransportOptions) {}

  /** A transport sharing everything (credentials, agent, rate limiter, hook) but acting as someone else. */
  impersonating(impersonation: Impersonation): Transport {
    return new Transport({ ...this.o, impersonation });
  }

  close(): void {
    this.o.credentials.close();
  }

  /** A request whose whole response body is JSON; non-2xx responses throw ApiError. */
  async json<T>(req: TransportRequest): Promise<T> {
    let authRetried = false;
    for (let attempt = 0; ; attempt++) {
      const res = await this.send(req);
      if (res.status >= 200 && res.status < 300) {
        try {
          return JSON.parse(res.body) as T;
        } catch (cause) {
          throw new Error(`${req.action}: response is not JSON`, { cause });
        }
      }
      if (res.status === 401 && !authRetried) {
        authRetried = true;
        this.o.credentials.invalidate();
        continue;
      }
      const err = decodeApiError(req.action, res.status, res.body, res.retryAfter);
      if (res.status === 429 && err.retryAfterSeconds !== undefined && attempt < maxThrottleRetries) {
        const waitMs = Math.min(maxRetryAfterMs, Math.max(0, err.retryAfterSeconds) * 1000);
        try {
          await (this.o.sleep ?? sleep)(waitMs, this.o.closed);
        } catch {
          throw err; // the client was closed while waiting: give up with what the server said
        }
        continue;
      }
      throw err;
    }
  }

  /**
   * A streaming GET: every line of the body goes to onLine until the server ends it, stop() is called, or it fails.
   * Resolves once the response began (or failed); onEnd is called exactly once, with the error if there was one.
   */
  async lines(
    req: TransportRequest,
    onLine: (line: string, stop: () => void) => void,
    onEnd: (err?: Error) => void,
  ): Promise<() => void> {
    let ended = false;
    const end = (err?: Error) => {
      if (ended) return;
      ended = true;
      onEnd(err);
    };
    let stopRequested = false;
    let current: http.ClientRequest | undefined;
    const stop = () => {
      stopRequested = true;
      current?.destroy();
      end();
    };
    try {
      await this.o.limiter.take();
      const creds = await this.o.credentials.get();
      if (stopRequested) return stop;
      await new Promise<void>((resolve) => {
        let responded = false;
        const request = this.start(req, creds, 0, (res) => {
          responded = true;
          this.count(req, res.statusCode ?? 0);
          if (res.statusCode !== 200) {
            collect(res).then(
              (body) => {
                if (res.statusCode === 401) this.o.credentials.invalidate();
                end(decodeApiError(req.action, res.statusCode ?? 0, body, header(res, "retry-after")));
                resolve();
              },
              (cause: unknown) => {
                end(new Error(`${req.action}: read error response`, { cause }));
                resolve();
              },
            );
            return;
          }
          resolve();
          const rl = createInterface({ input: res, crlfDelay: Number.POSITIVE_INFINITY });
          rl.on("line", (line) => {
            if (!ended && line.trim() !== "") onLine(line, stop);
          });
          rl.on("close", () => end(res.complete || stopRequested ? undefined : new Error(`${req.action}: stream cut`)));
          // readline re-emits its input's errors: both must be handled, or a reset connection crashes the process.
          const onError = (cause: Error) =>
            end(stopRequested ? undefined : new Error(`${req.action}: stream failed`, { cause }));
          rl.on("error", onError);
          res.on("error", onError);
        });
        current = request;
        request.on("error", (cause) => {
          if (!stopRequested && !responded) this.count(req, 0);
          end(stopRequested ? undefined : new Error(`${req.action}: ${cause.message}`, { cause }));
          resolve();
        });
        request.end();
      });
    } catch (cause) {
      end(cause instanceof Error ? cause : new Error(`${req.action}: failed`, { cause }));
    }
    return stop;
  }

  /** The first response with API Priority and Fairness headers turns the rate limiter off. */
  private noteFlowControl(res: http.IncomingMessage): void {
    const fc = this.o.flowControl;
    if (fc.detected || !flowControlHeaders.some((h) => res.headers[h] !== undefined)) return;
    fc.detected = true;
    this.o.limiter.disable();
    try {
      fc.onDetected?.();
    } catch {
      // Reporting must never break a request.
    }
  }

  private async send(req: TransportRequest): Promise<{ status: number; body: string; retryAfter?: string }> {
    await this.o.limiter.take();
    const creds = await this.o.credentials.get();
    return new Promise((resolve, reject) => {
      const request = this.start(req, creds, this.o.requestTimeoutMs, (res) => {
        this.count(req, res.statusCode ?? 0);
        collect(res).then(
          (body) => resolve({ status: res.statusCode ?? 0, body, retryAfter: header(res, "retry-after") }),
          (cause: unknown) => reject(new Error(`${req.action}: read response`, { cause })),
        );
      });
      request.on("timeout", () => request.destroy(new Error(`timed out after ${this.o.requestTimeoutMs}ms`)));
      request.on("error", (cause) => {
        this.count(req, 0);
        reject(new Error(`${req.action}: ${cause.message}`, { cause }));
      });
      request.end(req.body);
    });
  }

  private start(
    req: TransportRequest,
    creds: Awaited<ReturnType<CredentialSource["get"]>>,
    timeoutMs: number,
    onResponse: (res: http.IncomingMessage) => void,
  ): http.ClientRequest {
    const url = new URL(req.path, creds.server);
    // Paths are relative to the server's own path (a kubeconfig server may be https://host/k8s/clusters/x).
    const basePath = creds.server.pathname.replace(/\/$/, "");
    const headers: http.OutgoingHttpHeaders = {
      ...creds.headers,
      accept: req.accept ?? "application/json",
      "user-agent": this.o.userAgent,
    };
    if (req.body !== undefined) {
      headers["content-type"] = req.contentType ?? "application/json";
      headers["content-length"] = Buffer.byteLength(req.body);
    }
    const imp = this.o.impersonation;
    if (imp) {
      headers["Impersonate-User"] = imp.user;
      if (imp.groups && imp.groups.length > 0) headers["Impersonate-Group"] = imp.groups;
    }
    const options: http.RequestOptions = {
      method: req.method,
      protocol: creds.server.protocol,
      hostname: creds.server.hostname.replace(/^\[|\]$/g, ""),
      port: creds.server.port || undefined,
      path: `${basePath}${url.pathname}${url.search}`,
      headers,
      agent: creds.agent,
      ...(timeoutMs > 0 ? { timeout: timeoutMs } : {}),
    };
    const observed = (res: http.IncomingMessage) => {
      this.noteFlowControl(res);
      onResponse(res);
    };
    return creds.server.protocol === "http:" ? http.request(options, observed) : https.request(options, observed);
  }

  private count(req: TransportRequest, code: number): void {
    try {
      this.o.onRequest?.({ method: req.method, verb: req.verb, resource: req.resource, code });
    } catch {
      // A counting hook must never break a request.
    }
  }
}

function header(res: http.IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function collect(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    res.on("error", reject);
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error("client closed"));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error("client closed"));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
