// Observability backends: Datadog (events API v1, DD-API-KEY) and Grafana (annotations API, Graphite format), with the
// payloads Flux's notifiers send.
import { type FluxEvent, sortedEntries } from "../events/event.js";
import { basicAuth, type HttpRequest } from "./http.js";
import { parseHttpAddress } from "./settings.js";

function unixSeconds(timestamp: string): number {
  return Math.floor(Date.parse(timestamp) / 1000);
}

/** Flux's Datadog client keeps scheme and host of the address ("https://api.datadoghq.eu") and posts to /api/v1/events. */
export function datadogEventsUrl(address: string): string {
  const u = parseHttpAddress(
    address,
    "datadog provider address is not a valid URL",
    "datadog provider address is not a valid http(s) URL",
  );
  return `${u.protocol}//${u.host}/api/v1/events`;
}

export function datadogTags(event: FluxEvent): string[] {
  const o = event.involvedObject;
  const tags = [
    `flux_reporting_controller:${event.reportingController}`,
    `flux_reason:${event.reason}`,
    `kube_kind:${o.kind}`,
    `kube_name:${o.name}`,
    `kube_namespace:${o.namespace ?? ""}`,
    ...sortedEntries(event.metadata).map(([k, v]) => `${k}:${v}`),
  ];
  // Datadog lowercases tags itself; Flux does it first so events stay consistent.
  return tags.map((t) => t.toLowerCase());
}

export function datadogRequest(url: string, apiKey: string, event: FluxEvent): HttpRequest {
  const o = event.involvedObject;
  // The Go client marshals a map: keys in sorted order.
  const body = {
    alert_type: event.severity === "error" ? "error" : "info",
    date_happened: unixSeconds(event.timestamp),
    source_type_name: "fluxcd",
    tags: datadogTags(event),
    text: event.message,
    title: `Events from the ${o.kind} ${o.name}/${o.namespace ?? ""}`,
  };
  return {
    method: "POST",
    url,
    headers: { "content-type": "application/json", accept: "application/json", "dd-api-key": apiKey },
    body: JSON.stringify(body),
  };
}

export interface GrafanaAuth {
  token?: string;
  username?: string;
  password?: string;
}

export function grafanaRequest(url: string, event: FluxEvent, auth: GrafanaAuth): HttpRequest {
  const o = event.involvedObject;
  const tags = [
    "flux",
    event.reportingController,
    ...sortedEntries(event.metadata).map(([k, v]) => `${k.replaceAll(":", "|")}: ${v.replaceAll(":", "|")}`),
    `kind: ${o.kind}`,
    `name: ${o.name}`,
    `namespace: ${o.namespace ?? ""}`,
  ];
  const payload = {
    when: unixSeconds(event.timestamp),
    text: `${o.kind.toLowerCase()}/${o.name}.${o.namespace ?? ""}`,
    tags,
  };
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  else if (auth.username && auth.password) headers.authorization = basicAuth(auth.username, auth.password);
  return { method: "POST", url, headers, body: JSON.stringify(payload) };
}
