// The reconcile pass as a controller sees it, run against the in-memory client: steps that return nothing, errors
// that carry their condition, the end-of-pass hook, and the typed watch helper.
import { describe, expect, it } from "vitest";
import { Conditions, Reasons } from "../apis/meta.js";
import type { KubeObject, ResourceType } from "../contracts.js";
import { createLogger } from "../telemetry/logger.js";
import { MemoryClient, memoryReconciler } from "../testing/memory-client.js";
import { getCondition, type WithConditions } from "./conditions.js";
import { ReconcileError, StallingError, WaitingError } from "./errors.js";
import { type ReconcilerDefinition, type Step, stepRequeue, watch } from "./types.js";

const thingType: ResourceType = {
  group: "example.dev",
  version: "v1",
  kind: "Thing",
  plural: "things",
  namespaced: true,
};
type Thing = WithConditions & { spec: { interval?: string } };
type State = { journal: string[] };

const thing = (name = "t"): Thing => ({
  apiVersion: "example.dev/v1",
  kind: "Thing",
  metadata: { name, namespace: "ns" },
  spec: {},
});

function definition(steps: Step<Thing, State>[], journal: string[] = []): ReconcilerDefinition<Thing, State> {
  return {
    name: "thing",
    type: thingType,
    finalizer: null,
    conditions: {
      owned: ["FetchFailed", "Verified"],
      summarize: ["FetchFailed", "Verified"],
      negativePolarity: ["FetchFailed"],
    },
    newState: () => ({ journal }),
    steps,
    endOfPass: async (_ctx, _obj, state, outcome) => {
      state.journal.push(`end ${outcome.error ? "error" : outcome.requeueAfterMs !== undefined ? "requeue" : "ok"}`);
    },
  };
}

async function run(def: ReconcilerDefinition<Thing, State>) {
  const client = new MemoryClient([thingType]);
  client.seed(thing());
  const r = memoryReconciler(def, client);
  const outcome = await r.reconcile("ns/t");
  const obj = client.peek<Thing>({ apiVersion: "example.dev/v1", kind: "Thing", namespace: "ns", name: "t" });
  if (!obj) throw new Error("thing gone");
  return { outcome, obj, events: r.events };
}

describe("a reconcile pass", () => {
  it("Given steps that return nothing / should run them all, run the end-of-pass hook once and be Ready", async () => {
    const journal: string[] = [];
    const { obj } = await run(
      definition(
        [
          async (_c, _o, s) => {
            s.journal.push("one");
          },
          async (_c, _o, s) => {
            s.journal.push("two");
          },
        ],
        journal,
      ),
    );
    expect(journal).toEqual(["one", "two", "end ok"]);
    expect(getCondition(obj, Conditions.Ready)).toMatchObject({ status: "True", reason: Reasons.Succeeded });
  });

  it("Given a step that requeues / should skip the rest and still run the end-of-pass hook", async () => {
    const journal: string[] = [];
    const { outcome } = await run(
      definition(
        [
          async () => stepRequeue(5_000),
          async (_c, _o, s) => {
            s.journal.push("never");
          },
        ],
        journal,
      ),
    );
    expect(journal).toEqual(["end requeue"]);
    expect(outcome).toEqual({ type: "requeueAfter", delayMs: 5_000 });
  });

  it("Given an error naming an abnormal-true condition / should mark it True with the reason and message, and Ready False", async () => {
    const journal: string[] = [];
    const { obj, outcome, events } = await run(
      definition(
        [
          async () => {
            throw ReconcileError.wrap(
              new ReconcileError("connection refused", { reason: "GitOperationFailed", condition: "FetchFailed" }),
              "failed to checkout",
            );
          },
        ],
        journal,
      ),
    );
    expect(journal).toEqual(["end error"]);
    const message = "failed to checkout: connection refused";
    expect(getCondition(obj, "FetchFailed")).toMatchObject({ status: "True", reason: "GitOperationFailed", message });
    expect(getCondition(obj, Conditions.Ready)).toMatchObject({
      status: "False",
      reason: "GitOperationFailed",
      message,
    });
    expect(getCondition(obj, Conditions.Stalled)).toBeUndefined();
    expect(outcome).toEqual({ type: "retry" });
    expect(events.events).toMatchObject([{ type: "Warning", reason: "GitOperationFailed", message }]);
  });

  it("Given a stalling error naming a positive condition / should mark it False, stall, and not requeue", async () => {
    const { obj, outcome } = await run(
      definition([
        async () => {
          throw new ReconcileError("no key matches", {
            reason: "VerificationError",
            condition: "Verified",
            stalling: true,
          });
        },
      ]),
    );
    expect(getCondition(obj, "Verified")).toMatchObject({ status: "False", reason: "VerificationError" });
    expect(getCondition(obj, Conditions.Stalled)).toMatchObject({ status: "True", reason: "VerificationError" });
    expect(obj.status?.observedGeneration).toBe(1);
    expect(outcome).toEqual({ type: "done" });
  });

  it("Given a StallingError / should stall as a ReconcileError with stalling does", async () => {
    const { obj, outcome } = await run(
      definition([
        async () => {
          throw new StallingError("spec.url: unsupported scheme", { reason: "URLInvalid" });
        },
      ]),
    );
    expect(getCondition(obj, Conditions.Stalled)).toMatchObject({ status: "True", reason: "URLInvalid" });
    expect(outcome).toEqual({ type: "done" });
  });

  it("Given a WaitingError naming a condition / should mark it, requeue after its delay, and emit no Event", async () => {
    const { obj, outcome, events } = await run(
      definition([
        async () => {
          throw new WaitingError("include 'b' has no artifact", {
            reason: "NoArtifact",
            condition: "FetchFailed",
            requeueAfterMs: 30_000,
          });
        },
      ]),
    );
    expect(getCondition(obj, "FetchFailed")).toMatchObject({ status: "True", reason: "NoArtifact" });
    expect(outcome).toEqual({ type: "requeueAfter", delayMs: 30_000 });
    expect(events.events).toEqual([]);
  });

  it("Given the same wait twice / should log it at info once, when it changed status, and at debug after", async () => {
    const lines: { level: string; msg: string }[] = [];
    const log = createLogger({ level: "debug", destination: { write: (l: string) => void lines.push(JSON.parse(l)) } });
    const client = new MemoryClient([thingType]);
    client.seed(thing());
    const wait = async () => {
      throw new WaitingError("source has no artifact", { reason: "NoArtifact", requeueAfterMs: 30_000 });
    };
    const r = memoryReconciler(definition([wait]), client, { log });
    await r.reconcile("ns/t");
    await r.reconcile("ns/t");
    const said = lines.filter((l) => l.msg === "source has no artifact").map((l) => l.level);
    expect(said).toEqual(["info", "debug"]);
  });

  it("Given an end-of-pass hook that throws after a clean pass / should fail the pass with its error", async () => {
    const def = definition([async () => undefined]);
    def.endOfPass = async () => {
      throw new Error("cleanup failed");
    };
    const { obj, outcome } = await run(def);
    expect(getCondition(obj, Conditions.Ready)).toMatchObject({
      status: "False",
      reason: Reasons.ReconciliationFailed,
      message: "cleanup failed",
    });
    expect(outcome).toEqual({ type: "retry" });
  });
});

describe("ReconcileError.wrap", () => {
  it("Given a WaitingError / should return it unchanged", () => {
    const waiting = new WaitingError("not yet", { reason: "DependencyNotReady", requeueAfterMs: 1 });
    expect(ReconcileError.wrap(waiting, "prefix")).toBe(waiting);
  });
  it("Given a plain Error / should make it ReconciliationFailed with the prefix and keep it as the cause", () => {
    const cause = new Error("boom");
    const wrapped = ReconcileError.wrap(cause, "doing x");
    expect(wrapped).toMatchObject({ message: "doing x: boom", reason: Reasons.ReconciliationFailed, stalling: false });
    expect(wrapped.cause).toBe(cause);
  });
});

describe("watch()", () => {
  type Source = KubeObject & { status?: { revision?: string } };
  it("Given a typed map and shouldEnqueue / should hand them the watched objects and map to own keys", () => {
    const w = watch<Thing, Source>(thingType, {
      map: (src, own) => own.list(src.metadata.namespace).map((o) => `${o.metadata.namespace}/${o.metadata.name}`),
      shouldEnqueue: (a, b) => a.status?.revision !== b.status?.revision,
    });
    const client = new MemoryClient([thingType]);
    client.seed(thing("a"), thing("b"));
    const src = (revision: string): Source => ({
      apiVersion: "v1",
      kind: "Source",
      metadata: { name: "s", namespace: "ns" },
      status: { revision },
    });
    expect(w.type).toBe(thingType);
    expect(w.map(src("1"), client.cache(thingType))).toEqual(["ns/a", "ns/b"]);
    expect(w.shouldEnqueue?.(src("1"), src("1"))).toBe(false);
    expect(w.shouldEnqueue?.(src("1"), src("2"))).toBe(true);
  });
});

describe("the Ready Event", () => {
  async function twoPasses(def: ReconcilerDefinition<Thing, State>) {
    const client = new MemoryClient([thingType]);
    client.seed(thing());
    const r = memoryReconciler(def, client);
    await r.reconcile("ns/t");
    const first = r.events.events.map((e) => `${e.type} ${e.reason}`);
    await r.reconcile("ns/t");
    return { first, both: r.events.events.map((e) => `${e.type} ${e.reason}`) };
  }

  it("Given no readyEvent / should emit it when Ready becomes True, and not again while it stays True", async () => {
    const { first, both } = await twoPasses(definition([async () => {}]));
    expect(first).toEqual([`Normal ${Reasons.Succeeded}`]);
    expect(both).toEqual([`Normal ${Reasons.Succeeded}`]);
  });

  it("Given readyEvent / should ask it with the status the pass found, and emit only when it says so", async () => {
    const seen: (string | undefined)[] = [];
    const def: ReconcilerDefinition<Thing, State> = {
      ...definition([async () => {}]),
      readyEvent: (before, obj) => {
        seen.push(getCondition({ ...obj, status: before }, Conditions.Ready)?.status);
        return false;
      },
    };
    const { both } = await twoPasses(def);
    expect(both).toEqual([]);
    // The first pass found no Ready, the second found the first's True.
    expect(seen).toEqual([undefined, "True"]);
  });

  it("Given readyEvent returns a message / should emit it on every pass that ends Ready, with its annotations", async () => {
    const elapsed: number[] = [];
    const def: ReconcilerDefinition<Thing, State> = {
      ...definition([async () => {}]),
      readyEvent: (_before, _obj, pass) => {
        elapsed.push(pass.elapsedMs);
        return {
          message: `finished ${elapsed.length}`,
          annotations: { "example.com/revision": "r1" },
          logFields: { revision: "r1" },
        };
      },
    };
    const client = new MemoryClient([thingType]);
    client.seed(thing());
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({ level: "info", destination: { write: (l: string) => void lines.push(JSON.parse(l)) } });
    const r = memoryReconciler(def, client, { log });
    await r.reconcile("ns/t");
    await r.reconcile("ns/t");
    expect(r.events.events.map((e) => [e.type, e.reason, e.message, e.annotations])).toEqual([
      ["Normal", Reasons.Succeeded, "finished 1", { "example.com/revision": "r1" }],
      ["Normal", Reasons.Succeeded, "finished 2", { "example.com/revision": "r1" }],
    ]);
    expect(lines.filter((l) => String(l.msg).startsWith("finished"))).toMatchObject([
      { level: "info", msg: "finished 1", revision: "r1" },
      { level: "info", msg: "finished 2", revision: "r1" },
    ]);
    expect(elapsed.every((ms) => ms >= 0 && ms < 60_000)).toBe(true);
  });
});
