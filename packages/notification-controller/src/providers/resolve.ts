// A Provider's settings from its spec and the Secrets it names (secretRef, certSecretRef, proxySecretRef), as Flux's
// notification-controller reads them. Errors name Secrets and keys, never values.
import { type Provider, ProviderReasons } from "@capstan/api";
import { parseDuration } from "@capstan/runtime";
import { parse as parseYaml } from "yaml";
import type { ProviderSettings } from "./settings.js";

/** Decoded Secret data by key; undefined when the Secret does not exist. */
export type SecretReader = (namespace: string, name: string) => Record<string, string> | undefined;

/** The Provider cannot be used as it stands; `reason` is Flux's (InvalidConfig). */
export class ProviderResolutionError extends Error {
  override readonly name = "ProviderResolutionError";
  readonly reason = ProviderReasons.InvalidConfig;
}

const defaultTimeoutMs = 15_000;

export function resolveProvider(provider: Provider, readSecret: SecretReader): ProviderSettings {
  const spec = provider.spec;
  const namespace = provider.metadata.namespace ?? "";
  const settings: ProviderSettings = {
    type: spec.type,
    uid: provider.metadata.uid ?? "",
    timeoutMs: timeoutOf(spec.timeout),
    ...(spec.address ? { address: spec.address } : {}),
    ...(spec.channel ? { channel: spec.channel } : {}),
    ...(spec.username ? { username: spec.username } : {}),
    ...(spec.proxy ? { proxy: spec.proxy } : {}),
    ...(spec.commitStatusExpr ? { commitStatusExpr: spec.commitStatusExpr } : {}),
  };
  const read = (ref: { name: string }, field: string) => {
    const data = readSecret(namespace, ref.name);
    if (!data) throw new ProviderResolutionError(`${field}: Secret '${namespace}/${ref.name}' not found`);
    return data;
  };
  if (spec.secretRef) {
    applySecretRef(settings, read(spec.secretRef, "spec.secretRef"), `${namespace}/${spec.secretRef.name}`);
  }
  if (spec.certSecretRef) {
    const data = read(spec.certSecretRef, "spec.certSecretRef");
    const ca = data["ca.crt"] ?? data.caFile;
    if (!ca) {
      throw new ProviderResolutionError(
        `spec.certSecretRef: no 'ca.crt' key in Secret '${namespace}/${spec.certSecretRef.name}'`,
      );
    }
    settings.caCert = ca;
  }
  if (spec.proxySecretRef) {
    const data = read(spec.proxySecretRef, "spec.proxySecretRef");
    settings.proxy = proxyUrl(data, `${namespace}/${spec.proxySecretRef.name}`);
  }
  return settings;
}

function applySecretRef(settings: ProviderSettings, data: Record<string, string>, secret: string): void {
  if (data.address) settings.address = data.address.trim();
  if (data.proxy) settings.proxy = data.proxy.trim();
  if (data.token) settings.token = data.token.trim();
  if (data.username) settings.username = data.username;
  if (data.password) settings.password = data.password;
  // smtp (Capstan): the sender address.
  if (data.from) settings.from = data.from.trim();
  if (data.headers) settings.headers = parseHeaders(data.headers, secret);
}

function timeoutOf(timeout: string | undefined): number {
  if (!timeout) return defaultTimeoutMs;
  try {
    return parseDuration(timeout);
  } catch (cause) {
    throw new ProviderResolutionError(`spec.timeout: invalid duration '${timeout}'`, { cause });
  }
}

function parseHeaders(text: string, secret: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (cause) {
    throw new ProviderResolutionError(`invalid 'headers' in Secret '${secret}': not a YAML map`, { cause });
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ProviderResolutionError(`invalid 'headers' in Secret '${secret}': not a YAML map`);
  }
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
}

function proxyUrl(data: Record<string, string>, secret: string): string {
  const address = data.address?.trim();
  if (!address) throw new ProviderResolutionError(`spec.proxySecretRef: no 'address' key in Secret '${secret}'`);
  let url: URL;
  try {
    url = new URL(address);
  } catch (cause) {
    throw new ProviderResolutionError(`spec.proxySecretRef: 'address' in Secret '${secret}' is not a URL`, { cause });
  }
  if (data.username) url.username = encodeURIComponent(data.username);
  if (data.password) url.password = encodeURIComponent(data.password);
  return url.toString();
}
