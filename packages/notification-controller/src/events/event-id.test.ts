import { describe, expect, it } from "vitest";
import { compileAlert } from "../alerts/matching.js";
import { EventPipeline } from "../alerts/pipeline.js";
import { EventRateLimiter } from "../alerts/ratelimit.js";
import { MemoryWatermarkStore } from "../alerts/watermark-store.js";
import { DeliveryQueues } from "../delivery/queues.js";
import type { HttpRequest, HttpTransport } from "../providers/http.js";
import { createNotifier, type Notifier } from "../providers/notifier.js";
import { sampleEvent } from "../testing/fixtures.js";
import { gitRepo, rev } from "../testing/objects.js";
import { encodeEvent, eventIdMetadataKey, type FluxEvent } from "./event.js";
import { notificationId, transitionKey } from "./event-id.js";
import type { WatchedObject } from "./watched.js";

/** Records every post as it starts; `hold` keeps them in flight (a crash "during the POST"). */
function attemptsNotifier() {
  const attempted: FluxEvent[] = [];
  let gate: Promise<void> = Promise.resolve();
  const notifier: Notifier = {
    type: "generic",
    async post(event) {
      attempted.push(event);
      await gate;
    },
    close: async () => undefined,
  };
  return {
    notifier,
    attempted,
    hold() {
      gate = new Promise(() => undefined);
    },
  };
}

/** One controller "process": its own queues, pipeline and clock, sharing the mark store with the next one. */
async function processWith(
  store: MemoryWatermarkStore,
  objects: Map<string, WatchedObject>,
  rec: ReturnType<typeof attemptsNotifier>,
  now: Date,
  alertUid = "alert-uid",
) {
  const queues = new DeliveryQueues({ policy: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 } });
  const pipeline = new EventPipeline({
    store,
    queues,
    limiter: new EventRateLimiter(0),
    listObjects: () => [...objects.values()],
    flushDelayMs: 1,
    now: () => now,
  });
  await pipeline.setAlert({
    identity: {
      apiVersion: "notification.toolkit.fluxcd.io/v1beta3",
      namespace: "flux-system",
      name: "ops",
      uid: alertUid,
    },
    alert: compileAlert({
      namespace: "flux-system",
      name: "ops",
      spec: { providerRef: { name: "p" }, eventSources: [{ kind: "GitRepository", name: "*" }] },
    }),
    provider: { key: "flux-system/p", notifier: rec.notifier, secrets: [] },
  });
  return { pipeline, settle: () => queues.drain(1_000) };
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("notification ids", () => {
  it("Given a notification in flight at a crash / should carry the same id when the restarted controller sends it again", async () => {
    const store = new MemoryWatermarkStore();
    const objects = new Map<string, WatchedObject>([["a", gitRepo("a", { revision: rev(1), ready: {} })]]);
    const first = attemptsNotifier();
    const p1 = await processWith(store, objects, first, new Date("2024-03-01T11:00:00Z"));
    await p1.settle();
    await p1.pipeline.flush();
    first.hold();
    const next = gitRepo("a", { revision: rev(2), ready: {} });
    objects.set("a", next);
    p1.pipeline.observe(next);
    await p1.pipeline.flush();
    expect(first.attempted.map((e) => e.reason)).toEqual(["NewArtifact"]);

    // "kill -9": the first process is abandoned mid-POST; the next one starts later, from the stored mark.
    const second = attemptsNotifier();
    const p2 = await processWith(store, objects, second, new Date("2024-03-01T12:30:00Z"));
    await p2.settle();
    expect(second.attempted.map((e) => e.reason)).toEqual(["NewArtifact"]);
    const [before, after] = [first.attempted[0], second.attempted[0]];
    expect(after?.id).toMatch(uuid);
    expect(after?.id).toBe(before?.id);
  });

  it("Given different notifications / should give each its own id", async () => {
    const store = new MemoryWatermarkStore();
    const objects = new Map<string, WatchedObject>([
      ["a", gitRepo("a", { revision: rev(1), ready: {} })],
      ["b", gitRepo("b", { revision: rev(1), ready: {} })],
    ]);
    const rec = attemptsNotifier();
    const p = await processWith(store, objects, rec, new Date("2024-03-01T11:00:00Z"));
    const set = (obj: WatchedObject) => {
      objects.set(obj.metadata.name, obj);
      p.pipeline.observe(obj);
    };
    const failing = (at: string) => ({ status: "False", reason: "AuthFailed", message: "401", lastTransitionTime: at });
    set(gitRepo("a", { revision: rev(2), ready: {} })); // NewArtifact a rev 2
    set(gitRepo("b", { revision: rev(2), ready: {} })); // the same step on another object
    set(gitRepo("a", { revision: rev(2), ready: failing("2024-03-01T10:05:00Z") }));
    set(gitRepo("a", { revision: rev(2), ready: { lastTransitionTime: "2024-03-01T10:06:00Z" } }));
    // The same failure again later: a flap, a new notification (its own lastTransitionTime).
    set(gitRepo("a", { revision: rev(2), ready: failing("2024-03-01T10:20:00Z") }));
    await p.settle();
    const ids = rec.attempted.map((e) => e.id);
    expect(rec.attempted.map((e) => `${e.involvedObject.name}:${e.reason}`)).toEqual([
      "a:NewArtifact",
      "b:NewArtifact",
      "a:AuthFailed",
      "a:Succeeded",
      "a:AuthFailed",
    ]);
    expect(new Set(ids).size).toBe(5);

    // The same transition notified by another Alert is another notification.
    const other = attemptsNotifier();
    objects.set("c", gitRepo("c", { revision: rev(1), ready: {} }));
    const q = await processWith(new MemoryWatermarkStore(), objects, other, new Date(), "other-alert-uid");
    const r = await processWith(new MemoryWatermarkStore(), objects, rec, new Date(), "alert-uid");
    for (const pl of [q.pipeline, r.pipeline]) pl.observe(gitRepo("c", { revision: rev(3), ready: {} }));
    await Promise.all([q.settle(), r.settle()]);
    expect(other.attempted[0]?.id).not.toBe(rec.attempted.at(-1)?.id);
  });

  it("Given a status without transition times / should still tell a flap's second failure from the first only by state", () => {
    const base = { kind: "GitRepository", name: "a", severity: "error", reason: "Failed", message: "x" };
    expect(transitionKey({ ...base, state: "s1" })).toBe(transitionKey({ ...base, state: "s1" }));
    expect(transitionKey({ ...base, state: "s1" })).not.toBe(transitionKey({ ...base, state: "s2" }));
    expect(transitionKey({ ...base, at: "t", state: "s1" })).toBe(transitionKey({ ...base, at: "t", state: "s2" }));
    // Length-prefixed parts: moving text between fields changes the key.
    expect(transitionKey({ ...base, name: "a", reason: "bFailed", state: "" })).not.toBe(
      transitionKey({ ...base, name: "ab", reason: "Failed", state: "" }),
    );
    expect(notificationId("u", "k")).toMatch(uuid);
  });
});

describe("the id on the wire", () => {
  it("Given a generic payload with an id / should keep Flux's shape and add the id to metadata only", () => {
    const event = sampleEvent();
    const withId = JSON.parse(encodeEvent({ ...event, id: "0e4c9a34-0000-8000-8000-000000000001" }));
    const plain = JSON.parse(encodeEvent(event));
    expect(Object.keys(withId)).toEqual(Object.keys(plain));
    expect(withId.metadata).toEqual({
      ...plain.metadata,
      [eventIdMetadataKey]: "0e4c9a34-0000-8000-8000-000000000001",
    });
    expect({ ...withId, metadata: plain.metadata }).toEqual(plain);
    // No id (a caller outside the pipeline): byte-for-byte Flux's JSON.
    expect(encodeEvent(event)).not.toContain("event-id");
  });

  it.each([
    ["generic", { address: "https://hooks.example.com/flux" }],
    ["slack", { address: "https://hooks.slack.com/services/T/B/x" }],
    ["telegram", { channel: "@ops", token: "bot-token" }],
    ["github", { address: "https://github.com/org/repo", token: "gh-token" }],
  ])(
    "Given a %s Provider / should send the id as X-Capstan-Event-Id and Idempotency-Key on every request",
    async (type, extra) => {
      const sent: HttpRequest[] = [];
      const transport: HttpTransport = {
        async send(request) {
          sent.push(request);
          const body = request.method === "GET" ? "[]" : "{}";
          return { status: 200, headers: new Headers(), body };
        },
        close: async () => undefined,
      };
      const notifier = createNotifier({ type, uid: "provider-uid", timeoutMs: 1_000, ...extra }, transport);
      const id = notificationId("alert-uid", "transition");
      await notifier.post({ ...sampleEvent(), id });
      expect(sent.length).toBeGreaterThan(0);
      for (const request of sent) {
        expect(request.headers["x-capstan-event-id"]).toBe(id);
        expect(request.headers["idempotency-key"]).toBe(`"${id}"`);
      }
    },
  );

  it("Given an Idempotency-Key from the Provider's Secret headers / should leave it as the user set it", async () => {
    const sent: HttpRequest[] = [];
    const transport: HttpTransport = {
      async send(request) {
        sent.push(request);
        return { status: 200, headers: new Headers(), body: "" };
      },
      close: async () => undefined,
    };
    const notifier = createNotifier(
      {
        type: "generic",
        uid: "u",
        timeoutMs: 1_000,
        address: "https://hooks.example.com/",
        headers: { "Idempotency-Key": "mine" },
      },
      transport,
    );
    await notifier.post({ ...sampleEvent(), id: "the-id" });
    expect(sent[0]?.headers["idempotency-key"]).toBe("mine");
    expect(sent[0]?.headers["x-capstan-event-id"]).toBe("the-id");
  });
});
