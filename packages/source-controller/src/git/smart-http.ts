// (Capstan) `git ls-remote` over HTTP(S) without a process: one GET of the smart protocol's ref advertisement
// (`<url>/info/refs?service=git-upload-pack`, protocol v0, pkt-lines), read in the controller. An ls-remote is the
// most frequent git operation (every reconcile of every GitRepository runs one) and as a process it is a `git` plus a
// `git-remote-http(s)`: 11–17 MiB of the container's peak memory in bench/peer at 100 to 1,000 GitRepositories.
//
// Only the plain answer is read here: 200, the advertisement's content type, no content encoding, pkt-lines that
// parse. Anything else (a redirect, dumb HTTP, a 401, a TLS or connection failure, a malformed or v2-only answer)
// returns `undefined` and the caller runs `git ls-remote`, so every failure and every transport rule (redirects,
// challenges, the system's CA store, proxies) stays git's, with git's messages. Only the bounds are enforced here:
// the answer's size (as git's output is bounded) and the operation's deadline, which end the listing with an error
// instead of a second attempt.
import { request as httpRequest, type IncomingMessage, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { type ProxyTarget, proxyAgent } from "@capstan/runtime";
import { GitError } from "../errors.js";
import type { HttpAuth } from "./auth.js";
import { maxOutputBytes } from "./exec.js";

export interface AdvertisementOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Largest answer read (default: git's output bound, 64 MiB). */
  maxBytes?: number;
  /** Names the operation in errors (default "git ls-remote", what the process would be called). */
  operation?: string;
  /** An http(s) proxy to send the request through (CONNECT for https, the absolute form for http). */
  proxy?: ProxyTarget;
}

const contentType = "application/x-git-upload-pack-advertisement";
const hash = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
// What check-ref-format allows is narrower; this is what the listing's text format (hash, tab, name) can carry.
const refName = /^[^\s\p{Cc}]+$/u;
const zeroId = /^0+$/;

/** The advertisement's URL, or undefined for URLs git treats specially (credentials, a query or fragment). */
export function infoRefsUrl(url: string): URL | undefined {
  const u = new URL(url);
  if (u.username || u.password || u.search || u.hash) return undefined;
  u.pathname = `${u.pathname.replace(/\/+$/, "")}/info/refs`;
  u.search = "?service=git-upload-pack";
  return u;
}

function requestOptions(url: URL, auth: HttpAuth, proxy?: ProxyTarget): RequestOptions & Record<string, unknown> {
  const headers: Record<string, string> = {
    Accept: "*/*",
    "User-Agent": "git/2.0 (capstan-source-controller)",
    Pragma: "no-cache",
  };
  if (auth.bearerToken) headers.Authorization = `Bearer ${auth.bearerToken}`;
  else if (auth.username) {
    headers.Authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password ?? ""}`).toString("base64")}`;
  }
  const options: RequestOptions & Record<string, unknown> = {
    method: "GET",
    headers,
    agent: proxy ? proxyAgent(url, proxy) : false,
  };
  if (url.protocol === "https:") {
    if (auth.caCert) options.ca = auth.caCert;
    if (auth.tlsCert && auth.tlsKey) {
      options.cert = auth.tlsCert;
      options.key = auth.tlsKey;
    }
  }
  return options;
}

/** Reads a plain advertisement's body, bounded; undefined when the answer is anything else. */
function readAnswer(res: IncomingMessage, maxBytes: number, tooLarge: () => void): Promise<Buffer | undefined> {
  const type = String(res.headers["content-type"] ?? "")
    .split(";")[0]
    ?.trim()
    .toLowerCase();
  const encoding = String(res.headers["content-encoding"] ?? "identity").toLowerCase();
  if (res.statusCode !== 200 || type !== contentType || encoding !== "identity") {
    res.resume();
    return Promise.resolve(undefined);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        tooLarge();
        return;
      }
      chunks.push(chunk);
    });
    res.on("end", () => resolve(Buffer.concat(chunks)));
    res.on("error", () => resolve(undefined));
    res.on("aborted", () => resolve(undefined));
  });
}

/**
 * The remote's refs as `git ls-remote` prints them ("<hash>\t<name>\n", peeled tags as "<name>^{}"), read in process;
 * undefined when git must do it (see the file's comment). Throws a GitError only for the bounds: the deadline, the
 * caller's cancel, an answer larger than `maxBytes`.
 */
export function lsRemoteHttp(url: string, auth: HttpAuth, options: AdvertisementOptions): Promise<string | undefined> {
  const target = infoRefsUrl(url);
  if (!target) return Promise.resolve(undefined);
  const operation = options.operation ?? "git ls-remote";
  const maxBytes = options.maxBytes ?? maxOutputBytes;
  const request = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<string | undefined>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      req.destroy();
      fn();
    };
    const fail = (err: GitError) => finish(() => reject(err));
    const onAbort = () => fail(new GitError("other", `${operation}: canceled`));
    const timer = setTimeout(
      () => fail(new GitError("timeout", `${operation}: timed out after ${Math.round(options.timeoutMs / 1000)}s`)),
      options.timeoutMs,
    );
    const req = request(target, requestOptions(target, auth, options.proxy), (res) => {
      readAnswer(res, maxBytes, () =>
        fail(new GitError("other", `${operation}: the server's ref advertisement is larger than ${maxBytes} bytes`)),
      ).then((body) => finish(() => resolve(body && parseAdvertisement(body))));
    });
    // Connection, TLS and parse failures: git runs the listing and reports them in its words.
    req.on("error", () => finish(() => resolve(undefined)));
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    req.end();
  });
}

/** One pkt-line at `at`: its payload (without a trailing LF), "flush", or undefined when malformed or truncated. */
function pktLine(buf: Buffer, at: number): { payload: string | "flush"; next: number } | undefined {
  if (at + 4 > buf.length) return undefined;
  const head = buf.toString("latin1", at, at + 4);
  if (!/^[0-9a-f]{4}$/.test(head)) return undefined;
  const length = Number.parseInt(head, 16);
  if (length === 0) return { payload: "flush", next: at + 4 };
  if (length < 5 || at + length > buf.length) return undefined; // 0001-0004: v2's delimiters, or nothing
  let payload = buf.toString("utf8", at + 4, at + length);
  if (payload.endsWith("\n")) payload = payload.slice(0, -1);
  return { payload, next: at + length };
}

/**
 * A protocol v0 (or v1) advertisement as ls-remote's text, or undefined when it is not one: "# service=git-upload-pack",
 * a flush, optionally "version 1", the refs (the first carrying the capabilities after a NUL; an empty repository's
 * only line is "capabilities^{}" on the zero id), a flush, and nothing after it.
 */
export function parseAdvertisement(buf: Buffer): string | undefined {
  let p = pktLine(buf, 0);
  if (p?.payload !== "# service=git-upload-pack") return undefined;
  p = pktLine(buf, p.next);
  if (p?.payload !== "flush") return undefined;
  let lines = "";
  let first = true;
  for (let at = p.next; ; ) {
    const line = pktLine(buf, at);
    if (!line) return undefined;
    at = line.next;
    if (line.payload === "flush") return at === buf.length ? lines : undefined;
    if (first && line.payload === "version 1") continue;
    let text = line.payload;
    if (first) {
      const nul = text.indexOf("\0");
      if (nul < 0) return undefined;
      text = text.slice(0, nul);
    }
    const space = text.indexOf(" ");
    const id = text.slice(0, space);
    const name = text.slice(space + 1);
    if (space < 0 || !hash.test(id) || !refName.test(name)) return undefined;
    if (first && name === "capabilities^{}" && zeroId.test(id)) {
      first = false;
      continue;
    }
    first = false;
    lines += `${id}\t${name}\n`;
  }
}
