// The proxy a Go controller would use for a URL: Flux's controllers are Go programs, whose default HTTP transport
// reads HTTPS_PROXY, HTTP_PROXY and NO_PROXY (each also in lower case) from the environment, and Flux documents setting
// them on its Deployments ("Flux proxy settings"). This is that rule, written from Go's documented behaviour
// (golang.org/x/net/http/httpproxy), so the same Deployment env means the same thing to Capstan:
// - https URLs use HTTPS_PROXY, http URLs HTTP_PROXY; the upper-case name wins when both are set and non-empty;
// - a proxy value without a scheme is an http:// proxy ("proxy:3128"); http, https, socks5 and socks5h are schemes;
// - localhost and loopback addresses are never proxied;
// - NO_PROXY is a comma-separated list: "*" (nothing is proxied), an IP address, a CIDR ("10.0.0.0/8"), or a domain,
//   each optionally with ":port". "example.com" matches example.com and its subdomains; ".example.com" and
//   "*.example.com" match its subdomains only. Matching ignores case; a trailing dot is kept on both sides (hence
//   Flux's advice to list both ".cluster.local." and ".cluster.local").
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions } from "node:https";
import { BlockList, isIP } from "node:net";
import { domainToASCII } from "node:url";

export interface ProxyEnvironment {
  httpProxy?: string;
  httpsProxy?: string;
  noProxy?: string;
  /** ALL_PROXY: the SOCKS5 proxy Flux documents for Git over SSH (Go's golang.org/x/net/proxy reads it). */
  allProxy?: string;
}

/** The proxy settings in an environment (process.env by default), Go's way: upper case first, empty means unset. */
export function proxyEnvironment(env: NodeJS.ProcessEnv = process.env): ProxyEnvironment {
  const any = (...names: string[]) => names.map((n) => env[n]).find((v) => v !== undefined && v !== "");
  const out: ProxyEnvironment = {};
  const http = any("HTTP_PROXY", "http_proxy");
  const https = any("HTTPS_PROXY", "https_proxy");
  const no = any("NO_PROXY", "no_proxy");
  const all = any("ALL_PROXY", "all_proxy");
  if (all) out.allProxy = all;
  if (http) out.httpProxy = http;
  if (https) out.httpsProxy = https;
  if (no) out.noProxy = no;
  return out;
}

export class ProxyConfigError extends Error {
  override readonly name = "ProxyConfigError";
}

/** A parsed proxy: `url` has no credentials; they are apart, decoded, so callers can keep them out of messages. */
export interface ProxyTarget {
  url: URL;
  username?: string;
  password?: string;
}

const proxySchemes = new Set(["http:", "https:", "socks5:", "socks5h:"]);

function parseProxy(value: string, variable: string): ProxyTarget {
  let url: URL | undefined;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    url = undefined;
  }
  // The value is not echoed: a proxy URL may carry a password.
  if (!url?.hostname) throw new ProxyConfigError(`invalid proxy address in ${variable}`);
  if (!proxySchemes.has(url.protocol)) {
    throw new ProxyConfigError(`unsupported proxy scheme '${url.protocol.slice(0, -1)}' in ${variable}`);
  }
  const target: ProxyTarget = { url };
  if (url.username) target.username = decode(url.username);
  if (url.password) target.password = decode(url.password);
  url.username = "";
  url.password = "";
  return target;
}

/** Percent-decoding that keeps a malformed sequence ("%zz") as written rather than throwing. */
function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

interface Matcher {
  /** Whether the entry matches this host (lower case, no brackets) and port. */
  match(host: string, port: string, ip: boolean): boolean;
}

function splitHostPort(entry: string): [string, string] {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return [bracketed[1] ?? "", bracketed[2] ?? ""];
  const colon = entry.lastIndexOf(":");
  // One colon: host:port. More (a bare IPv6 address): no port.
  if (colon > 0 && entry.indexOf(":") === colon && /^\d+$/.test(entry.slice(colon + 1))) {
    return [entry.slice(0, colon), entry.slice(colon + 1)];
  }
  return [entry, ""];
}

const family = (ip: string) => (isIP(ip) === 6 ? "ipv6" : "ipv4");

/** The last NO_PROXY parsed: a process has one, and every request asks. */
let lastNoProxy: { value: string | undefined; parsed: { all: boolean; matchers: Matcher[] } } | undefined;

function parseNoProxy(value: string | undefined): { all: boolean; matchers: Matcher[] } {
  if (!lastNoProxy || lastNoProxy.value !== value) lastNoProxy = { value, parsed: parseNoProxyList(value) };
  return lastNoProxy.parsed;
}

function parseNoProxyList(value: string | undefined): { all: boolean; matchers: Matcher[] } {
  const matchers: Matcher[] = [];
  for (const raw of (value ?? "").split(",")) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === "*") return { all: true, matchers: [] };
    const cidr = /^([^/]+)\/(\d{1,3})$/.exec(entry);
    if (cidr && isIP(cidr[1] ?? "")) {
      const list = new BlockList();
      const address = cidr[1] ?? "";
      const prefix = Number(cidr[2]);
      if (prefix <= (isIP(address) === 6 ? 128 : 32)) {
        list.addSubnet(address, prefix, family(address));
        matchers.push({ match: (host, _port, ip) => ip && list.check(host, family(host)) });
      }
      continue;
    }
    const [host, port] = splitHostPort(entry);
    if (isIP(host)) {
      const list = new BlockList();
      list.addAddress(host, family(host));
      matchers.push({ match: (h, p, ip) => ip && list.check(h, family(h)) && (port === "" || port === p) });
      continue;
    }
    let domain = host.startsWith("*.") ? host.slice(1) : host;
    const matchHost = !domain.startsWith(".");
    if (matchHost) domain = `.${domain}`;
    matchers.push({
      match: (h, p) => (h.endsWith(domain) || (matchHost && h === domain.slice(1))) && (port === "" || port === p),
    });
  }
  return { all: false, matchers };
}

const defaultPorts: Record<string, string> = { "http:": "80", "https:": "443" };

function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) {
    const list = new BlockList();
    list.addAddress("::1", "ipv6");
    list.addSubnet("::ffff:127.0.0.0", 104, "ipv6");
    return list.check(host, "ipv6");
  }
  return false;
}

/**
 * The proxy for a request to `target` under these settings (the process's environment by default), or undefined to go
 * direct. Only http and https targets are ever proxied. Throws a ProxyConfigError for a proxy value that is no URL.
 */
export function proxyFor(target: string | URL, settings: ProxyEnvironment = processProxy()): ProxyTarget | undefined {
  const url = typeof target === "string" ? new URL(target) : target;
  const [value, variable] =
    url.protocol === "https:"
      ? [settings.httpsProxy, "HTTPS_PROXY"]
      : url.protocol === "http:"
        ? [settings.httpProxy, "HTTP_PROXY"]
        : [undefined, ""];
  if (!value) return undefined;
  let host = url.hostname.toLowerCase();
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (!isIP(host)) host = domainToASCII(host) || host;
  if (isLoopback(host)) return undefined;
  const port = url.port || defaultPorts[url.protocol] || "";
  const { all, matchers } = parseNoProxy(settings.noProxy);
  if (all) return undefined;
  const ip = isIP(host) !== 0;
  if (matchers.some((m) => m.match(host, port, ip))) return undefined;
  return parseProxy(value, variable);
}

/**
 * The SOCKS5 proxy for a raw connection (SSH) to host:port, as Go's proxy.FromEnvironment gives it: ALL_PROXY when it
 * is a socks5:// or socks5h:// URL (any other value: direct, as Go falls back), unless NO_PROXY matches the host
 * (the same matching as above; loopback is not exempt here, as in Go's SOCKS dialer).
 */
export function socksProxyFor(
  host: string,
  port: string,
  settings: ProxyEnvironment = processProxy(),
): ProxyTarget | undefined {
  if (!settings.allProxy) return undefined;
  let proxy: ProxyTarget;
  try {
    proxy = parseProxy(settings.allProxy, "ALL_PROXY");
  } catch {
    return undefined;
  }
  if (proxy.url.protocol !== "socks5:" && proxy.url.protocol !== "socks5h:") return undefined;
  let h = host.toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  const { all, matchers } = parseNoProxy(settings.noProxy);
  if (all || matchers.some((m) => m.match(h, port, isIP(h) !== 0))) return undefined;
  return proxy;
}

let cached: ProxyEnvironment | undefined;

/** The process's settings, read once: a Deployment's env does not change under a running process. */
export function processProxy(): ProxyEnvironment {
  cached ??= proxyEnvironment();
  return cached;
}

/**
 * An agent that sends a request for `target` through `proxy` with Node's own proxy support: a CONNECT tunnel for https
 * (TLS to the target end to end, with the request's own ca/cert/key), the absolute form for http; the proxy's
 * credentials as Proxy-Authorization. One per request or per client; Node supports http and https proxies only.
 */
export function proxyAgent(target: URL, proxy: ProxyTarget, options: HttpsAgentOptions = {}): HttpAgent {
  if (proxy.url.protocol !== "http:" && proxy.url.protocol !== "https:") {
    throw new ProxyConfigError(`a ${proxy.url.protocol.slice(0, -1)} proxy is not supported here (http and https are)`);
  }
  const uri = proxyUrlWithLogin(proxy);
  const https = target.protocol === "https:";
  const proxyEnv = https ? { HTTPS_PROXY: uri } : { HTTP_PROXY: uri };
  return https ? new HttpsAgent({ ...options, proxyEnv }) : new HttpAgent({ ...options, proxyEnv });
}

/** The proxy's URL with its login percent-encoded back in: what a client that takes one URL (undici, ssh's helper) needs. */
export function proxyUrlWithLogin(proxy: ProxyTarget): string {
  const uri = new URL(proxy.url);
  if (proxy.username) uri.username = encodeURIComponent(proxy.username);
  if (proxy.password) uri.password = encodeURIComponent(proxy.password);
  return uri.href;
}
