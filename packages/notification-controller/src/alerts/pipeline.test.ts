import type { AlertSpec } from "@capstan/api";
import { describe, expect, it } from "vitest";
import { DeliveryQueues } from "../delivery/queues.js";
import type { FluxEvent } from "../events/event.js";
import type { WatchedObject } from "../events/watched.js";
import type { Notifier } from "../providers/notifier.js";
import { gitRepo, rev } from "../testing/objects.js";
import { compileAlert } from "./matching.js";
import { EventPipeline } from "./pipeline.js";
import { EventRateLimiter } from "./ratelimit.js";
import { MemoryWatermarkStore } from "./watermark-store.js";

/** A notifier that records, and can be held to keep deliveries in flight. */
function recordingNotifier() {
  const sent: FluxEvent[] = [];
  let gate: Promise<void> = Promise.resolve();
  let open: () => void = () => undefined;
  const notifier: Notifier = {
    type: "generic",
    async post(event) {
      await gate;
      sent.push(event);
    },
    close: async () => undefined,
  };
  return {
    notifier,
    sent,
    hold() {
      gate = new Promise((r) => {
        open = r;
      });
    },
    release: () => open(),
  };
}

class World {
  objects = new Map<string, WatchedObject>();
  set(obj: WatchedObject) {
    this.objects.set(obj.metadata.name, obj);
    return obj;
  }
}

function start(store: MemoryWatermarkStore, world: World, rec: ReturnType<typeof recordingNotifier>, windowMs = 0) {
  const queues = new DeliveryQueues({ policy: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 } });
  const pipeline = new EventPipeline({
    store,
    queues,
    limiter: new EventRateLimiter(windowMs),
    listObjects: () => [...world.objects.values()],
    flushDelayMs: 1,
  });
  const bind = (spec: Partial<AlertSpec> = {}, generation = 1) =>
    pipeline.setAlert({
      identity: {
        apiVersion: "notification.toolkit.fluxcd.io/v1beta3",
        namespace: "flux-system",
        name: "ops",
        uid: "alert-uid",
        generation,
      },
      alert: compileAlert({
        namespace: "flux-system",
        name: "ops",
        spec: { providerRef: { name: "p" }, eventSources: [{ kind: "GitRepository", name: "*" }], ...spec },
      }),
      provider: { key: "flux-system/p", notifier: rec.notifier, secrets: [] },
    });
  const settle = async () => {
    await queues.drain();
    await pipeline.flush();
  };
  return { pipeline, queues, bind, settle };
}

const summary = (events: FluxEvent[]) => events.map((e) => `${e.involvedObject.name}:${e.severity}:${e.reason}`);

/** What most tests start from: an empty watermark store, an empty world and a notifier that records. */
function fixtures() {
  return { store: new MemoryWatermarkStore(), world: new World(), rec: recordingNotifier() };
}

describe("event pipeline", () => {
  it("Given a new Alert / should start from the current state, then notify each later transition once", async () => {
    const { store, world, rec } = fixtures();
    world.set(gitRepo("a", { revision: rev(1), ready: { status: "False", reason: "Broken", message: "x" } }));
    const { pipeline, bind, settle } = start(store, world, rec);
    await bind();
    await settle();
    expect(rec.sent).toEqual([]);
    expect(store.marks.get("flux-system/ops")?.entries.size).toBe(1);

    const next = world.set(gitRepo("a", { revision: rev(2), ready: {} }));
    pipeline.observe(next);
    pipeline.observe(next); // the same update twice (a resync) is no news
    await settle();
    expect(summary(rec.sent)).toEqual(["a:info:NewArtifact", "a:info:Succeeded"]);
  });

  it("Given a restart with changes while down / should notify those and nothing already sent", async () => {
    const { store, world, rec } = fixtures();
    world.set(gitRepo("a", { revision: rev(1), ready: {} }));
    world.set(gitRepo("gone", { revision: rev(1), ready: {} }));
    const first = start(store, world, rec);
    await first.bind();
    first.pipeline.observe(world.set(gitRepo("a", { revision: rev(2), ready: {} })));
    await first.settle();
    expect(summary(rec.sent)).toEqual(["a:info:NewArtifact"]);

    // Down: a moves on, b appears failing, gone is deleted.
    world.set(gitRepo("a", { revision: rev(3), ready: {} }));
    world.set(gitRepo("b", { revision: rev(7), ready: { status: "False", reason: "AuthFailed", message: "401" } }));
    world.objects.delete("gone");

    const second = start(store, world, rec);
    await second.bind();
    await second.settle();
    expect(summary(rec.sent)).toEqual([
      "a:info:NewArtifact",
      "a:info:NewArtifact",
      "b:info:NewArtifact",
      "b:error:AuthFailed",
    ]);
    expect(rec.sent[1]?.metadata?.revision).toBe(rev(3));
    expect([...(store.marks.get("flux-system/ops")?.entries.keys() ?? [])].sort()).toEqual([
      "GitRepository.flux-system.a",
      "GitRepository.flux-system.b",
    ]);

    // A third start with nothing new sends nothing.
    const third = start(store, world, rec);
    await third.bind();
    await third.settle();
    expect(rec.sent).toHaveLength(4);
  });

  it("Given a delivery still in flight at a crash / should not have advanced the mark, so the restart re-sends it", async () => {
    const { store, world, rec } = fixtures();
    world.set(gitRepo("a", { revision: rev(1) }));
    const first = start(store, world, rec);
    await first.bind();
    await first.settle();
    const marked = store.marks.get("flux-system/ops")?.entries.get("GitRepository.flux-system.a");
    rec.hold();
    first.pipeline.observe(world.set(gitRepo("a", { revision: rev(2) })));
    await first.pipeline.flush();
    expect(store.marks.get("flux-system/ops")?.entries.get("GitRepository.flux-system.a")).toBe(marked);
    // "Crash": the first pipeline is abandoned with its delivery held.
    const rec2 = recordingNotifier();
    const second = start(store, world, rec2);
    await second.bind();
    await second.settle();
    expect(summary(rec2.sent)).toEqual(["a:info:NewArtifact"]);
    rec.release();
  });

  it("Given a flapping object / should collapse identical notifications within the window", async () => {
    const { store, world, rec } = fixtures();
    world.set(gitRepo("a", { revision: rev(1), ready: {} }));
    const { pipeline, bind, settle } = start(store, world, rec, 60_000);
    await bind();
    for (let i = 0; i < 5; i++) {
      pipeline.observe(
        world.set(
          gitRepo("a", { revision: rev(1), ready: { status: "False", reason: "Timeout", message: "timed out" } }),
        ),
      );
      pipeline.observe(
        world.set(gitRepo("a", { revision: rev(1), ready: { status: "True", reason: "Succeeded", message: "ok" } })),
      );
    }
    await settle();
    expect(summary(rec.sent)).toEqual(["a:error:Timeout", "a:info:Succeeded"]);
  });

  it("Given a suspended Alert / should send nothing but keep its mark moving", async () => {
    const { store, world, rec } = fixtures();
    world.set(gitRepo("a", { revision: rev(1) }));
    const { pipeline, bind, settle } = start(store, world, rec);
    await bind({ suspend: true });
    pipeline.observe(world.set(gitRepo("a", { revision: rev(2) })));
    await settle();
    expect(rec.sent).toEqual([]);
    await bind({ suspend: false }, 2);
    await settle();
    expect(rec.sent).toEqual([]);
  });

  it("Given an edited Alert that selects more objects / should start those from their current state", async () => {
    const { store, world, rec } = fixtures();
    world.set(gitRepo("web", { revision: rev(1) }));
    world.set(gitRepo("db", { revision: rev(1), ready: { status: "False", reason: "X", message: "y" } }));
    const { pipeline, bind, settle } = start(store, world, rec);
    await bind({ eventSources: [{ kind: "GitRepository", name: "web" }] });
    await bind({ eventSources: [{ kind: "GitRepository", name: "*" }] }, 2);
    await settle();
    expect(rec.sent).toEqual([]);
    pipeline.observe(
      world.set(gitRepo("db", { revision: rev(2), ready: { status: "False", reason: "X", message: "y" } })),
    );
    await settle();
    expect(summary(rec.sent)).toEqual(["db:info:NewArtifact"]);
  });

  it("Given severity and inclusion filters / should mark filtered transitions as settled without sending", async () => {
    const { store, world, rec } = fixtures();
    world.set(gitRepo("a", { revision: rev(1), ready: {} }));
    const { pipeline, bind, settle } = start(store, world, rec);
    await bind({ eventSeverity: "error" });
    pipeline.observe(
      world.set(gitRepo("a", { revision: rev(2), ready: { status: "False", reason: "R", message: "m" } })),
    );
    await settle();
    expect(summary(rec.sent)).toEqual(["a:error:R"]);
    expect(rec.sent[0]?.metadata).toEqual({ revision: rev(2) });
  });

  it("Given a new Alert that watches nothing yet and a failing first write / should still write its empty mark", async () => {
    const store = new MemoryWatermarkStore();
    const save = store.save.bind(store);
    let failures = 1;
    store.save = async (...args) => {
      if (failures-- > 0) throw new Error("apiserver unavailable");
      return save(...args);
    };
    const errors: string[] = [];
    const world = new World();
    const queues = new DeliveryQueues();
    const pipeline = new EventPipeline({
      store,
      queues,
      limiter: new EventRateLimiter(0),
      listObjects: () => [...world.objects.values()],
      flushDelayMs: 1,
      onError: (_err, what) => errors.push(what),
    });
    await pipeline.setAlert({
      identity: { apiVersion: "notification.toolkit.fluxcd.io/v1beta3", namespace: "ns", name: "new", uid: "u1" },
      alert: compileAlert({
        namespace: "ns",
        name: "new",
        spec: { providerRef: { name: "p" }, eventSources: [{ kind: "GitRepository", name: "*" }] },
      }),
      provider: { key: "ns/p", notifier: recordingNotifier().notifier, secrets: [] },
    });
    await pipeline.flush();
    expect(errors).toEqual(["write notification mark of Alert ns/new"]);
    expect(store.marks.has("ns/new")).toBe(false);
    await pipeline.flush();
    expect(store.marks.get("ns/new")?.entries.size).toBe(0);
  });
});
