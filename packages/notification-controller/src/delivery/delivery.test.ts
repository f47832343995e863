// Delivery against real HTTP servers on loopback.
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import { freePort } from "@capstan/cluster/process";
import { afterEach, describe, expect, it } from "vitest";
import { encodeEvent } from "../events/event.js";
import { createNotifier } from "../providers/notifier.js";
import type { ProviderSettings } from "../providers/settings.js";
import { secretValues } from "../providers/settings.js";
import { slackPayload } from "../providers/slack.js";
import { sampleEvent } from "../testing/fixtures.js";
import { type RecorderServer, startRecorder } from "../testing/recorder.js";
import { type DeliveryOutcome, DeliveryQueues } from "./queues.js";
import { withRetries } from "./retry.js";

const fast = { maxAttempts: 6, baseDelayMs: 50, maxDelayMs: 200, maxRetryAfterMs: 5_000 };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function recorder(...args: Parameters<typeof startRecorder>): Promise<RecorderServer> {
  const r = await startRecorder(...args);
  cleanups.push(() => r.close());
  return r;
}

function settings(s: Partial<ProviderSettings> & { type: string }): ProviderSettings {
  return { uid: "0d7c2f4e-aaaa-bbbb-cccc-ddddeeeeffff", timeoutMs: 2_000, ...s };
}

function deliver(queues: DeliveryQueues, providerKey: string, s: ProviderSettings, event = sampleEvent()) {
  const notifier = createNotifier(s);
  cleanups.push(() => notifier.close());
  return new Promise<DeliveryOutcome>((resolve) =>
    queues.enqueue({ providerKey, notifier, event, secrets: secretValues(s), onSettled: resolve }),
  );
}

describe("delivery over HTTP", () => {
  it("Given a Slack incoming webhook / should receive the exact attachment payload once", async () => {
    const slack = await recorder(() => ({ status: 200, body: "ok" }));
    const queues = new DeliveryQueues({ policy: fast });
    const outcome = await deliver(
      queues,
      "ns/slack",
      settings({ type: "slack", address: `${slack.url}/services/T0/B0/XYZ`, channel: "#ops", username: "flux" }),
    );
    expect(outcome).toMatchObject({ delivered: true, attempts: 1 });
    expect(slack.requests).toHaveLength(1);
    const req = slack.requests[0];
    expect(req?.path).toBe("/services/T0/B0/XYZ");
    expect(req?.headers["content-type"]).toBe("application/json");
    // The body is the Slack payload for the event (its fields are payloads.test.ts's concern), sent once.
    expect(JSON.parse(req?.body ?? "")).toEqual(slackPayload(sampleEvent(), { channel: "#ops", username: "flux" }));
  });

  it("Given a generic-hmac receiver / should get Flux's event JSON with a signature it can verify", async () => {
    const hook = await recorder();
    const outcome = await deliver(
      new DeliveryQueues({ policy: fast }),
      "ns/hmac",
      settings({ type: "generic-hmac", address: `${hook.url}/events`, token: "hmac-key-123" }),
    );
    expect(outcome.delivered).toBe(true);
    const req = hook.requests[0];
    expect(req?.body).toBe(encodeEvent(sampleEvent()));
    const expected = createHmac("sha256", "hmac-key-123")
      .update(req?.body ?? "")
      .digest("hex");
    expect(req?.headers["x-signature"]).toBe(`sha256=${expected}`);
    expect(req?.headers["gotk-component"]).toBe("source-controller");
  });

  it("Given a provider that is down and comes up / should deliver after retrying", async () => {
    const port = await freePort();
    const queues = new DeliveryQueues({ policy: fast });
    const received: string[] = [];
    const server = createServer(async (req, res) => {
      let body = "";
      for await (const c of req) body += c;
      received.push(body);
      res.writeHead(200).end();
    });
    const attemptsBeforeUp: number[] = [];
    const pending = deliver(queues, "ns/late", settings({ type: "generic", address: `http://127.0.0.1:${port}/` }));
    // Up only once the first attempt has failed (the queue is then waiting to retry).
    await new Promise((r) => setTimeout(r, 30));
    attemptsBeforeUp.push(received.length);
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => server.close(() => r())));
    const outcome = await pending;
    expect(attemptsBeforeUp).toEqual([0]);
    expect(outcome.delivered).toBe(true);
    expect(outcome.attempts).toBeGreaterThan(1);
    expect(received).toEqual([encodeEvent(sampleEvent())]);
  });

  it("Given 429 with Retry-After / should wait what the provider asked before the next attempt", async () => {
    const hook = await recorder((_req, i) =>
      i === 0 ? { status: 429, headers: { "retry-after": "1" } } : { status: 200 },
    );
    const notifier = createNotifier(settings({ type: "generic", address: hook.url }));
    cleanups.push(() => notifier.close());
    const delays: number[] = [];
    const result = await withRetries((signal) => notifier.post(sampleEvent(), signal), fast, {
      onRetry: (_attempt, _err, delay) => delays.push(delay),
    });
    expect(result.attempts).toBe(2);
    expect(delays).toEqual([1000]);
    expect(hook.requests).toHaveLength(2);
  });

  it("Given a 400 from the provider / should fail at once without retrying", async () => {
    const hook = await recorder(() => ({ status: 400, body: "bad payload" }));
    const outcome = await deliver(
      new DeliveryQueues({ policy: fast }),
      "ns/bad",
      settings({ type: "generic", address: hook.url }),
    );
    expect(outcome.delivered).toBe(false);
    expect(outcome.attempts).toBe(1);
    expect(outcome.error).toMatch(/status 400: bad payload/);
    expect(hook.requests).toHaveLength(1);
  });

  it("Given a provider that hangs / should still deliver to another provider meanwhile", async () => {
    const stuck = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((r) => stuck.listen(0, "127.0.0.1", r));
    cleanups.push(
      () =>
        new Promise((r) => {
          stuck.close(() => r());
          stuck.closeAllConnections();
        }),
    );
    const port = (stuck.address() as { port: number }).port;
    const healthy = await recorder();
    const queues = new DeliveryQueues({ policy: { ...fast, maxAttempts: 1 } });
    const slow = deliver(
      queues,
      "ns/slow",
      settings({ type: "generic", address: `http://127.0.0.1:${port}/`, timeoutMs: 5_000 }),
    );
    const quick = await deliver(queues, "ns/quick", settings({ type: "generic", address: healthy.url }));
    expect(quick.delivered).toBe(true);
    expect(queues.pending("ns/slow")).toBe(1);
    await queues.stop();
    expect((await slow).delivered).toBe(false);
  });

  it("Given a failure on a URL that holds the token / should never put the token in the error", async () => {
    const api = await recorder((req) => ({ status: 500, body: `no bot for ${req.path}` }));
    const token = "123456:SECRET-telegram-token";
    const outcome = await deliver(
      new DeliveryQueues({ policy: { ...fast, maxAttempts: 2 } }),
      "ns/tg",
      settings({ type: "telegram", address: api.url, channel: "@ops", token }),
    );
    expect(api.requests[0]?.path).toBe(`/bot${token}/sendMessage`);
    expect(outcome.delivered).toBe(false);
    expect(outcome.error).toMatch(/status 500/);
    expect(outcome.error).not.toContain(token);
    expect(outcome.error).not.toContain("SECRET");
  });

  it("Given a GitHub provider / should list statuses, then create ours, and skip an identical one", async () => {
    const sha = "0123456789abcdef0123456789abcdef01234567";
    const statuses: unknown[] = [];
    const gh = await recorder((req) => {
      if (req.method === "GET") return { status: 200, body: JSON.stringify(statuses) };
      statuses.unshift(JSON.parse(req.body));
      return { status: 201, body: "{}" };
    });
    const s = settings({ type: "github", address: `${gh.url}/org/repo`, token: "ghp_x" });
    const queues = new DeliveryQueues({ policy: fast });
    const event = sampleEvent();
    expect((await deliver(queues, "ns/gh", s, event)).delivered).toBe(true);
    expect((await deliver(queues, "ns/gh", s, event)).delivered).toBe(true);
    expect(gh.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /api/v3/repos/org/repo/commits/${sha}/statuses?per_page=50`,
      `POST /api/v3/repos/org/repo/statuses/${sha}`,
      `GET /api/v3/repos/org/repo/commits/${sha}/statuses?per_page=50`,
    ]);
    expect(statuses).toEqual([
      { state: "success", description: "new artifact", context: "gitrepository/webapp/0d7c2f4e" },
    ]);
  });
});
