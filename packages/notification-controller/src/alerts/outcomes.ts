// What a settled notification leaves behind: a metric count, a log line, and for a failure a Warning Event
// NotificationDispatchFailed on the Alert (v1beta3 Alerts have no status, so Events are where a user looks).
import { AlertReasons } from "@capstan/api";
import type { EventRecorder, Logger } from "@capstan/runtime";
import type { NotificationMetrics } from "./metrics.js";
import type { NotificationRecord } from "./pipeline.js";

export function reportSettled(deps: {
  metrics: NotificationMetrics;
  log: Logger;
  events: EventRecorder;
}): (record: NotificationRecord) => void {
  const { metrics, log, events } = deps;
  return (record) => {
    const { alert, event, outcome } = record;
    const involved = `${event.involvedObject.kind}/${event.involvedObject.namespace ?? ""}/${event.involvedObject.name}`;
    const fields = { alert: `${alert.namespace}/${alert.name}`, provider: record.providerKey, object: involved };
    if (outcome.delivered) metrics.delivered(alert, record.providerKey);
    else if (outcome.dropped) metrics.dropped(alert, record.providerKey);
    else metrics.failed(alert, record.providerKey);
    if (outcome.delivered) {
      log.debug({ ...fields, reason: event.reason, attempts: outcome.attempts }, "notification sent");
      return;
    }
    // Flux's words: "dispatch" when no notifier could be made for the Provider, "send" when the provider refused.
    const verb = outcome.dropped ? "dispatch" : "send";
    const message = `failed to ${verb} notification for ${involved}: ${outcome.error ?? "unknown error"}`;
    log.error({ ...fields, attempts: outcome.attempts, outcome: outcome.dropped ? "dropped" : "failed" }, message);
    events.event(
      {
        apiVersion: alert.apiVersion,
        kind: "Alert",
        metadata: { name: alert.name, namespace: alert.namespace, uid: alert.uid },
      },
      "Warning",
      AlertReasons.NotificationDispatchFailed,
      message,
    );
  };
}
