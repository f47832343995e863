// Notifiers in unit tests: what a test starts (servers, notifiers) is closed after it, and a notification is posted
// directly or delivered through a delivery queue, as the controller sends it (retries, then a redacted error).
import { afterEach } from "vitest";
import { type DeliveryOutcome, DeliveryQueues } from "../delivery/queues.js";
import type { RetryPolicy } from "../delivery/retry.js";
import type { FluxEvent } from "../events/event.js";
import { createNotifier, type Notifier } from "../providers/notifier.js";
import { type ProviderSettings, secretValues } from "../providers/settings.js";
import { sampleEvent } from "./fixtures.js";

export const fastRetries: RetryPolicy = { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 50, maxRetryAfterMs: 1_000 };

export interface NotifierTests {
  /** Runs `close` after the test (servers, notifiers made by hand). */
  closeAfter(close: () => Promise<void>): void;
  /** A notifier for `settings`, closed after the test. */
  notifier(settings: ProviderSettings): Notifier;
  /** Posts `event` once, as the notifier alone does: a failure rejects. */
  post(settings: ProviderSettings, event?: FluxEvent): Promise<void>;
  /** Sends `event` through a delivery queue (`policy`'s retries); resolves with the outcome. */
  deliver(
    settings: ProviderSettings,
    event?: FluxEvent,
    options?: { queues?: DeliveryQueues; providerKey?: string },
  ): Promise<DeliveryOutcome>;
}

/** Registers an afterEach that closes what the test started. */
export function useNotifierTests(policy: RetryPolicy = fastRetries): NotifierTests {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()?.();
  });
  const notifier = (settings: ProviderSettings) => {
    const n = createNotifier(settings);
    cleanups.push(() => n.close());
    return n;
  };
  return {
    closeAfter: (close) => {
      cleanups.push(close);
    },
    notifier,
    post: (settings, event = sampleEvent()) => notifier(settings).post(event),
    deliver: (settings, event = sampleEvent(), options = {}) => {
      const n = notifier(settings);
      const queues = options.queues ?? new DeliveryQueues({ policy });
      return new Promise((resolve) =>
        queues.enqueue({
          providerKey: options.providerKey ?? "ns/p",
          notifier: n,
          event,
          secrets: secretValues(settings),
          onSettled: resolve,
        }),
      );
    },
  };
}
