import { describe, expect, it } from "vitest";
import { createNotifier } from "../providers/notifier.js";
import { UnsupportedProviderTypeError, undeliverableNotifier } from "../providers/unsupported.js";
import { sampleEvent } from "../testing/fixtures.js";
import { type DeliveryOutcome, DeliveryQueues } from "./queues.js";

describe("a Provider that cannot deliver", () => {
  it("Given a type createNotifier has no notifier for / should say so with its own error, which the binder keys on", () => {
    expect(() => createNotifier({ type: "webex", uid: "u", timeoutMs: 1_000 })).toThrow(UnsupportedProviderTypeError);
    expect(() => createNotifier({ type: "generic", uid: "u", timeoutMs: 1_000 })).not.toThrow(
      UnsupportedProviderTypeError,
    );
  });

  it("Given notifications for an undeliverable Provider / should settle each as dropped at once, without a retry", async () => {
    const queues = new DeliveryQueues({
      policy: { maxAttempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000, maxRetryAfterMs: 60_000 },
    });
    const outcomes: DeliveryOutcome[] = [];
    const notifier = undeliverableNotifier("flux-system/pager", "webex");
    for (let i = 0; i < 2; i++) {
      queues.enqueue({
        providerKey: "flux-system/pager",
        notifier,
        event: sampleEvent(),
        secrets: [],
        onSettled: (o) => outcomes.push(o),
      });
    }
    expect(await queues.drain(5_000)).toBe(true);
    expect(outcomes.map(({ latencyMs: _l, ...o }) => o)).toEqual([
      {
        delivered: false,
        dropped: true,
        attempts: 0,
        error: "Provider 'flux-system/pager' has type 'webex', which Capstan cannot send to: notification dropped",
      },
      expect.objectContaining({ dropped: true }),
    ]);
  });
});
