import { describe, expect, it } from "vitest";
import type { Cache, Client, KubeObject } from "../contracts.js";
import { createLogger } from "../telemetry/logger.js";
import { Metrics } from "../telemetry/metrics.js";
import type { WithConditions } from "./conditions.js";
import { createReconcileHandler } from "./reconciler.js";
import { namedStep, nameOfStep, ReconcileTrace, traced } from "./trace.js";

/** A clock the test moves by hand. */
function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("ReconcileTrace", () => {
  it("Given a span inside a step, should record it under its own name and take it out of the step", async () => {
    const c = clock();
    const trace = new ReconcileTrace(c.now);
    await trace.span("build", async () => {
      c.advance(10);
      await trace.span("fetch", async () => {
        c.advance(30);
      });
      c.advance(5);
    });
    expect(trace.breakdownMs()).toEqual({ build: 15, fetch: 30 });
  });

  it("Given a step that runs twice and one that throws, should add up the first and still time the second", async () => {
    const c = clock();
    const trace = new ReconcileTrace(c.now);
    await trace.span("status", async () => c.advance(2));
    await expect(
      trace.span("apply", async () => {
        c.advance(7);
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    await trace.span("status", async () => c.advance(3));
    expect([...trace.seconds()]).toEqual([
      ["status", 0.005],
      ["apply", 0.007],
    ]);
  });

  it("Given a context without a trace, traced() should only run the function", async () => {
    await expect(traced({}, "fetch", async () => 42)).resolves.toBe(42);
  });

  it.each([
    [namedStep("health", async () => undefined), 3, "health"],
    [async function checkSpec() {}, 0, "checkSpec"],
    [
      (
        () => async () =>
          undefined
      )(),
      4,
      "step4",
    ],
  ])("Given step %#, nameOfStep should name it", (step, i, name) => {
    expect(nameOfStep(step, i)).toBe(name);
  });
});

type Thing = WithConditions & { status?: Record<string, unknown> };

describe("createReconcileHandler trace", () => {
  it("Given named steps, should export each step's duration, the status write, and log the breakdown at debug", async () => {
    const thing = {
      apiVersion: "example.dev/v1",
      kind: "Thing",
      metadata: {
        name: "t",
        namespace: "ns",
        resourceVersion: "1",
        generation: 1,
        finalizers: ["finalizers.fluxcd.io"],
      },
      spec: { interval: "1m" },
    } as unknown as Thing;
    const client = {
      applyStatus: async (o: KubeObject) => ({ ...o, metadata: { ...o.metadata, resourceVersion: "2" } }),
    } as unknown as Client;
    const cache: Cache<Thing> = { get: () => thing, list: () => [thing] };
    const lines: Record<string, unknown>[] = [];
    const metrics = new Metrics({ defaultMetrics: false });
    const handle = createReconcileHandler<Thing, Record<string, never>>(
      {
        name: "thing",
        type: { group: "example.dev", version: "v1", kind: "Thing", plural: "things", namespaced: true },
        conditions: { owned: [], summarize: [], negativePolarity: [] },
        steps: [
          namedStep("fetch", async (ctx) => {
            await traced(ctx, "download", async () => undefined);
            return undefined;
          }),
          namedStep("apply", async () => undefined),
        ],
      },
      {
        client,
        cache,
        events: { event: () => undefined },
        log: createLogger({ level: "debug", destination: { write: (l: string) => lines.push(JSON.parse(l)) } }),
        metrics,
        fieldManager: "thing-controller",
      },
    );
    await handle("ns/t", { queueWaitSeconds: 1.5 });

    const text = await metrics.text();
    for (const step of ["fetch", "download", "apply", "status"]) {
      expect(text).toContain(`capstan_reconcile_step_duration_seconds_count{kind="Thing",step="${step}"} 1`);
    }
    const line = lines.find((l) => l.msg === "reconcile trace");
    expect(line).toMatchObject({
      level: "debug",
      result: "requeue_after",
      queueWaitMs: 1500,
      name: "t",
      namespace: "ns",
    });
    expect(Object.keys(line?.steps as object).sort()).toEqual(["apply", "download", "fetch", "status"]);
  });
});
