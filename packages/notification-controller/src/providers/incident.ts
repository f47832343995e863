// Incident and alerting services: Opsgenie (alerts API), PagerDuty (Events API v2) and Prometheus Alertmanager
// (POST /api/v2/alerts), with the payloads and headers Flux's notifiers send.
import { type FluxEvent, fluxTimestamp, isProgressing, sortedRecord } from "../events/event.js";
import { statusDescription } from "./commit-status.js";
import { basicAuth, type HttpRequest, jsonPost } from "./http.js";
import { parseHttpAddress } from "./settings.js";

export function opsgenieRequest(url: string, apiKey: string, event: FluxEvent): HttpRequest {
  const details = sortedRecord({ ...(event.metadata ?? {}), severity: event.severity });
  const payload = {
    message: `${event.involvedObject.kind}/${event.involvedObject.name}`,
    description: event.message,
    details,
  };
  return jsonPost(url, payload, { authorization: `GenieKey ${apiKey}` });
}

/** Flux keeps only scheme://host of the address and appends the Events API paths. */
export function pagerDutyEndpoint(address: string): string {
  const u = parseHttpAddress(
    address,
    "pagerduty provider address is not a valid URL",
    "pagerduty provider address is not a valid http(s) URL",
  );
  return `${u.protocol}//${u.host}`;
}

/** "<reason split and lowercased>: <kind>/<name>", e.g. "health check failed: kustomization/apps". */
function pagerDutySummary(event: FluxEvent): string {
  const o = event.involvedObject;
  return `${statusDescription(event)}: ${`${o.kind}/${o.name}`.toLowerCase()}`;
}

function details(event: FluxEvent) {
  return { message: event.message, metadata: event.metadata ? sortedRecord(event.metadata) : null };
}

/**
 * Error events trigger an incident deduplicated by the object's UID; any other event resolves it (in case one is
 * open), and info events also record a change event. Progressing events are skipped, as in Flux.
 */
export function pagerDutyRequests(endpoint: string, routingKey: string, event: FluxEvent): HttpRequest[] {
  if (isProgressing(event)) return [];
  const summary = pagerDutySummary(event);
  const source = `Flux ${event.reportingController}`;
  const timestamp = fluxTimestamp(new Date(event.timestamp));
  const dedup = event.involvedObject.uid;
  const v2: Record<string, unknown> = { routing_key: routingKey, event_action: "resolve" };
  if (dedup) v2.dedup_key = dedup;
  if (event.severity === "error") {
    v2.event_action = "trigger";
    v2.payload = {
      summary,
      source,
      severity: "error",
      timestamp,
      component: event.involvedObject.name,
      group: event.involvedObject.kind,
      custom_details: details(event),
    };
  }
  const requests = [jsonPost(`${endpoint}/v2/enqueue`, v2)];
  if (event.severity === "info") {
    const change = {
      routing_key: routingKey,
      payload: { source, summary, timestamp, custom_details: details(event) },
      links: null,
    };
    requests.push(jsonPost(`${endpoint}/v2/change/enqueue`, change));
  }
  return requests;
}

/** Go's cases.Title for one identifier: first letter of each word upper, the rest lower ("NewArtifact" → "Newartifact"). */
export function titleCase(text: string): string {
  return text
    .toLowerCase()
    .replace(/(^|[^\p{L}\p{N}'])(\p{L})/gu, (_m, before: string, c: string) => before + c.toUpperCase());
}

export interface AlertmanagerAuth {
  token?: string;
  username?: string;
  password?: string;
}

/** One firing alert; `endsAt` is Go's zero time, which Alertmanager reads as "resolve after resolve_timeout". */
export function alertmanagerRequest(url: string, event: FluxEvent, auth: AlertmanagerAuth): HttpRequest {
  const metadata = { ...(event.metadata ?? {}) };
  const annotations: Record<string, string> = { message: event.message };
  if (metadata.summary !== undefined) {
    annotations.summary = metadata.summary;
    delete metadata.summary;
  }
  const o = event.involvedObject;
  const labels = sortedRecord({
    ...metadata,
    alertname: `Flux${o.kind}${titleCase(event.reason)}`,
    severity: event.severity,
    reason: event.reason,
    kind: o.kind,
    name: o.name,
    namespace: o.namespace ?? "",
    reportingcontroller: event.reportingController,
  });
  const payload = [
    {
      status: "firing",
      labels,
      annotations: sortedRecord(annotations),
      startsAt: fluxTimestamp(new Date(event.timestamp)),
      endsAt: "0001-01-01T00:00:00Z",
    },
  ];
  const headers: Record<string, string> = {};
  // Flux adds the bearer token, then SetBasicAuth replaces it when both username and password are set.
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  if (auth.username && auth.password) headers.authorization = basicAuth(auth.username, auth.password);
  return jsonPost(url, payload, headers);
}
