// `generic` and `generic-hmac`: Flux's event JSON as is, with the `gotk-component` header and the Secret's headers;
// generic-hmac adds X-Signature: sha256=<hex HMAC-SHA256 of the exact body, keyed by the Secret's token>.
import { createHmac } from "node:crypto";
import { encodeEvent, type FluxEvent } from "../events/event.js";
import type { HttpRequest } from "./http.js";
import { ProviderConfigError, type ProviderSettings } from "./settings.js";

export const NotificationHeader = "gotk-component";

export function hmacSignature(body: string, key: string): string {
  return `sha256=${createHmac("sha256", key).update(body).digest("hex")}`;
}

export function genericRequest(event: FluxEvent, settings: ProviderSettings): HttpRequest {
  const url = requireAddress(settings);
  const body = encodeEvent(event);
  const headers: Record<string, string> = { "content-type": "application/json" };
  headers[NotificationHeader] = event.reportingController;
  for (const [key, value] of Object.entries(settings.headers ?? {})) headers[key.toLowerCase()] = value;
  if (settings.username && settings.password) {
    headers.authorization = `Basic ${Buffer.from(`${settings.username}:${settings.password}`).toString("base64")}`;
  }
  if (settings.type === "generic-hmac") {
    if (!settings.token) throw new ProviderConfigError("generic-hmac provider needs a `token` in its secretRef");
    headers["x-signature"] = hmacSignature(body, settings.token);
  }
  return { method: "POST", url, headers, body };
}

export function requireAddress(settings: ProviderSettings): string {
  if (!settings.address) throw new ProviderConfigError(`${settings.type} provider has no address`);
  try {
    const u = new URL(settings.address);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error(u.protocol);
  } catch (cause) {
    // Not echoing the address: for webhook providers it is often a secret.
    throw new ProviderConfigError(`${settings.type} provider address is not a valid http(s) URL`, { cause });
  }
  return settings.address;
}
