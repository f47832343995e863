// Notification outcomes as Prometheus series (a Capstan addition; Flux's notification-controller has none for this).
import { Counter, type Registry } from "prom-client";

export interface NotificationMetrics {
  delivered(alert: { namespace: string; name: string }, provider: string): void;
  failed(alert: { namespace: string; name: string }, provider: string): void;
  /** Not sent at all: the Provider's type cannot be delivered to. */
  dropped(alert: { namespace: string; name: string }, provider: string): void;
  collapsed(alert: { namespace: string; name: string }): void;
}

export function notificationMetrics(registry: Registry): NotificationMetrics {
  const sent = new Counter({
    name: "capstan_notifications_total",
    help: "Notifications settled per Alert and Provider (namespace/name), by outcome: delivered, failed (after retries) or dropped (the Provider's type is not supported).",
    labelNames: ["namespace", "alert", "provider", "outcome"] as const,
    registers: [registry],
  });
  const collapsed = new Counter({
    name: "capstan_notifications_collapsed_total",
    help: "Notifications not sent because an identical one was sent within --rate-limit-interval.",
    labelNames: ["namespace", "alert"] as const,
    registers: [registry],
  });
  return {
    delivered: (a, provider) => sent.inc({ namespace: a.namespace, alert: a.name, provider, outcome: "delivered" }),
    failed: (a, provider) => sent.inc({ namespace: a.namespace, alert: a.name, provider, outcome: "failed" }),
    dropped: (a, provider) => sent.inc({ namespace: a.namespace, alert: a.name, provider, outcome: "dropped" }),
    collapsed: (a) => collapsed.inc({ namespace: a.namespace, alert: a.name }),
  };
}
