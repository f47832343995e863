// Credentials for a Git remote, read from a Secret's data the way Flux reads them. Nothing here touches the network
// or the file system: session.ts turns these into the env and temp files that git and ssh read.
import { GitError } from "../errors.js";

/** A Secret's data, already base64-decoded. */
export type SecretData = Readonly<Record<string, Buffer>>;

/** The runtime's Secret decoding (base64 → bytes), re-exported for this package's callers. */
export { decodeSecretData } from "@capstan/runtime";

export type Transport = "http" | "https" | "ssh";

export interface HttpAuth {
  transport: "http" | "https";
  username?: string;
  password?: string;
  bearerToken?: string;
  caCert?: Buffer;
  tlsCert?: Buffer;
  tlsKey?: Buffer;
}

export interface SshAuth {
  transport: "ssh";
  user: string;
  identity?: Buffer;
  identityPassword?: string;
  knownHosts?: Buffer;
}

export type GitAuth = HttpAuth | SshAuth;

export interface ProxyConfig {
  address: string;
  username?: string;
  password?: string;
}

/** Parses and checks a GitRepository URL; ssh, http and https are the schemes Flux accepts. */
export function parseRemoteUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new GitError("url", `invalid URL: must be http://, https:// or ssh://`, { cause, stalling: true });
  }
  if (!["http:", "https:", "ssh:"].includes(parsed.protocol)) {
    throw new GitError("url", `unsupported URL scheme '${parsed.protocol.slice(0, -1)}': use http, https or ssh`, {
      stalling: true,
    });
  }
  if (!parsed.hostname) throw new GitError("url", "invalid URL: no host", { stalling: true });
  if (parsed.password) {
    throw new GitError(
      "url",
      "credentials in the URL are not allowed: put them in the Secret named by spec.secretRef",
      {
        stalling: true,
      },
    );
  }
  return parsed;
}

const text = (data: SecretData, key: string): string | undefined => {
  const value = data[key];
  return value && value.length > 0 ? value.toString("utf8") : undefined;
};

/** The credentials for `url` from the (optional) Secret data, validated as Flux validates them. */
export function authFromSecret(url: URL, data: SecretData | undefined): GitAuth {
  return url.protocol === "ssh:" ? sshAuth(url, data) : httpAuth(url, data ?? {});
}

// Not stalling, as in Flux: the Secret is not watched, so only a retry notices that it was fixed.
function invalid(message: string): GitError {
  return new GitError("credentials", message);
}

function sshAuth(url: URL, data: SecretData | undefined): SshAuth {
  const d = data ?? {};
  const auth: SshAuth = { transport: "ssh", user: text(d, "username") ?? (decodeURIComponent(url.username) || "git") };
  if (d.identity?.length) auth.identity = d.identity;
  const password = text(d, "password");
  if (password) auth.identityPassword = password;
  if (d.known_hosts?.length) auth.knownHosts = d.known_hosts;
  if (data && !auth.knownHosts) throw invalid("invalid 'ssh' auth option: 'known_hosts' is required in the Secret");
  return auth;
}

function httpAuth(url: URL, d: SecretData): HttpAuth {
  const auth: HttpAuth = { transport: url.protocol === "https:" ? "https" : "http" };
  const username = text(d, "username");
  const password = text(d, "password");
  const bearerToken = text(d, "bearerToken");
  if (password && !username) throw invalid("invalid auth option: 'password' requires 'username' to be set");
  if (bearerToken && username)
    throw invalid("invalid auth option: 'bearerToken' and 'username' are mutually exclusive");
  if (bearerToken && auth.transport === "http") {
    throw invalid("bearer token authentication over plain http is not allowed: use https");
  }
  if (username) auth.username = username;
  if (password) auth.password = password;
  if (bearerToken) auth.bearerToken = bearerToken;
  const ca = d["ca.crt"] ?? d.caFile;
  if (ca?.length) auth.caCert = ca;
  const cert = d["tls.crt"];
  const key = d["tls.key"];
  if (Boolean(cert?.length) !== Boolean(key?.length)) {
    throw invalid("invalid auth option: 'tls.crt' and 'tls.key' must be set together");
  }
  if (cert?.length && key?.length) {
    auth.tlsCert = cert;
    auth.tlsKey = key;
  }
  return auth;
}

/** The proxy from a proxySecretRef Secret: 'address' (required), 'username' and 'password'. */
export function proxyFromSecret(data: SecretData): ProxyConfig {
  const address = text(data, "address");
  if (!address) {
    throw new GitError("proxy", "invalid proxy Secret: 'address' is required");
  }
  try {
    new URL(address);
  } catch (cause) {
    throw new GitError("proxy", "invalid proxy Secret: 'address' is not a URL", { cause });
  }
  const proxy: ProxyConfig = { address };
  const username = text(data, "username");
  const password = text(data, "password");
  if (username) proxy.username = username;
  if (password) proxy.password = password;
  return proxy;
}

/** Secret values that must be scrubbed from anything this session prints. */
export function secretValues(auth: GitAuth, proxy?: ProxyConfig): string[] {
  const out: string[] = [];
  if (auth.transport === "ssh") {
    if (auth.identityPassword) out.push(auth.identityPassword);
  } else {
    if (auth.password) out.push(auth.password);
    if (auth.bearerToken) out.push(auth.bearerToken);
  }
  if (proxy?.password) out.push(proxy.password);
  return out;
}

const unsupportedProviders = new Set(["aws", "azure", "github"]);

/** spec.provider: only 'generic' (the default) is implemented; the cloud identity providers are not yet. */
export function checkProvider(provider: string | undefined): void {
  if (!provider || provider === "generic") return;
  if (unsupportedProviders.has(provider)) {
    throw new GitError(
      "provider",
      `provider '${provider}' is not supported yet by Capstan: use provider 'generic' with credentials in spec.secretRef`,
      { stalling: true },
    );
  }
  throw new GitError("provider", `unknown provider '${provider}': must be one of generic, aws, azure, github`, {
    stalling: true,
  });
}
