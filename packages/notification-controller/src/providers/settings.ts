// What a notifier needs to know about its Provider, resolved from the Provider spec and its Secrets by the caller.
// Holding secrets here is fine; printing this object is not (see redact()).

export const providerTypes = [
  "generic",
  "generic-hmac",
  "slack",
  "discord",
  "msteams",
  "googlechat",
  "rocket",
  "telegram",
  "github",
  "gitlab",
  "gitea",
  "bitbucket",
  "bitbucketserver",
  "giteapullrequestcomment",
  "gitlabmergerequestcomment",
  "opsgenie",
  "pagerduty",
  "alertmanager",
  "datadog",
  "grafana",
  // Capstan addition: Flux has no e-mail provider.
  "smtp",
] as const;
export type ProviderType = (typeof providerTypes)[number];

export function isProviderType(type: string): type is ProviderType {
  return (providerTypes as readonly string[]).includes(type);
}

export interface ProviderSettings {
  type: string;
  /** The Provider's metadata.uid: commit status contexts carry its first segment, as Flux's do. */
  uid: string;
  /** spec.address, or the Secret's `address` key, which wins. */
  address?: string;
  channel?: string;
  username?: string;
  /** Secret keys. */
  token?: string;
  password?: string;
  /** smtp (Capstan): the Secret's `from` key, the envelope and header sender. */
  from?: string;
  headers?: Record<string, string>;
  /** PEM bundle from certSecretRef (`ca.crt`). */
  caCert?: string;
  /** Proxy URL from proxySecretRef (`address`, optionally with username/password). */
  proxy?: string;
  /** spec.commitStatusExpr (CEL): the commit status id per notification (commit-status-expr.ts). */
  commitStatusExpr?: string;
  /** spec.timeout, per request attempt. */
  timeoutMs: number;
}

/** A Provider that can never work as configured: surfaces as a condition on the Provider, never retried. */
export class ProviderConfigError extends Error {
  override readonly name = "ProviderConfigError";
}

/** A Provider address that must be an http(s) URL, with Flux's message for each way it is not. */
export function parseHttpAddress(address: string, notUrl: string, notHttp: string): URL {
  let u: URL;
  try {
    u = new URL(address);
  } catch (cause) {
    throw new ProviderConfigError(notUrl, { cause });
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new ProviderConfigError(notHttp);
  return u;
}

/** Every secret value the settings hold, for redaction of anything that might echo them. */
export function secretValues(settings: ProviderSettings): string[] {
  const values = [settings.token, settings.password, ...Object.values(settings.headers ?? {})];
  if (settings.proxy) {
    try {
      const u = new URL(settings.proxy);
      values.push(decodeURIComponent(u.password), decodeURIComponent(u.username));
    } catch {
      values.push(settings.proxy);
    }
  }
  // Secret-sourced addresses (Slack and Discord webhook URLs) are credentials in themselves.
  if (settings.address) values.push(settings.address);
  // A PagerDuty routing key sits in spec.channel, but it is what lets anyone open incidents on the service.
  if (settings.type === "pagerduty" && settings.channel) values.push(settings.channel);
  return values.filter((v): v is string => typeof v === "string" && v.length >= 4);
}

export function redact(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const secret of secrets) out = out.split(secret).join("*****");
  return out;
}
