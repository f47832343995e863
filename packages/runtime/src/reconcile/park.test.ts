// A reconcile's parked wait (ReconcileContext.park, Capstan): run through the pool's lease, its time after the wait
// traced as "unpark", and a wait cancelled by the controller's stop ends the reconcile without a status write.
import { describe, expect, it } from "vitest";
import type { Cache, Client, KubeObject } from "../contracts.js";
import type { Lease } from "../queue/workers.js";
import { createLogger } from "../telemetry/logger.js";
import { Metrics } from "../telemetry/metrics.js";
import type { WithConditions } from "./conditions.js";
import { createReconcileHandler } from "./reconciler.js";
import { parked } from "./types.js";

type Thing = WithConditions & { status?: { waited?: boolean; conditions?: never[] } };

function setup() {
  const obj = {
    apiVersion: "example.dev/v1",
    kind: "Thing",
    metadata: { name: "t", namespace: "ns", resourceVersion: "1", generation: 1, finalizers: ["finalizers.fluxcd.io"] },
    spec: { interval: "1m" },
  } as unknown as Thing;
  const writes: unknown[] = [];
  const events: string[] = [];
  const client = {
    applyStatus: async (o: KubeObject & { status?: Thing["status"] }) => {
      writes.push(structuredClone(o.status));
      return { ...o, metadata: { ...o.metadata, resourceVersion: "1" } };
    },
  } as unknown as Client;
  const cache: Cache<Thing> = { get: () => obj, list: () => [obj] };
  const metrics = new Metrics({ defaultMetrics: false });
  const handle = createReconcileHandler<Thing, Record<string, never>>(
    {
      name: "thing",
      type: { group: "example.dev", version: "v1", kind: "Thing", plural: "things", namespaced: true },
      conditions: { owned: [], summarize: [], negativePolarity: [] },
      steps: [
        async (ctx, o) => {
          await parked(
            ctx,
            (signal) =>
              new Promise<void>((resolve, reject) => {
                const timer = setTimeout(resolve, 20);
                signal.addEventListener("abort", () => {
                  clearTimeout(timer);
                  reject(new Error("aborted"));
                });
              }),
          );
          o.status = { ...o.status, waited: true };
          return undefined;
        },
      ],
    },
    {
      client,
      cache,
      events: { event: (_o, _t, reason) => void events.push(reason) },
      log: createLogger({ level: "error" }),
      metrics,
      fieldManager: "thing-controller",
    },
  );
  return { handle, writes, events, metrics };
}

describe("ReconcileContext.park", () => {
  it("Given a lease / should run the wait through it, then write status, and trace the return to a worker as unpark", async () => {
    const t = setup();
    let parkedWaits = 0;
    const park: Lease["park"] = async (wait) => {
      parkedWaits++;
      const r = await wait(new AbortController().signal);
      await new Promise((resolve) => setTimeout(resolve, 30)); // a worker is busy: the wait for one
      return r;
    };
    expect(await t.handle("ns/t", { park })).toEqual(expect.objectContaining({ type: "requeueAfter" }));
    expect(parkedWaits).toBe(1);
    expect(t.writes).toContainEqual(expect.objectContaining({ waited: true }));
    const text = await t.metrics.text();
    expect(text).toMatch(/capstan_reconcile_step_duration_seconds_count\{kind="Thing",step="unpark"\} 1/);
    const sum = Number(
      /capstan_reconcile_step_duration_seconds_sum\{kind="Thing",step="unpark"\} ([\d.e-]+)/.exec(text)?.[1],
    );
    expect(sum).toBeGreaterThanOrEqual(0.02);
  });

  it("Given the controller stops while the wait is parked / should end the reconcile without a status write or an Event", async () => {
    const t = setup();
    const stop = new AbortController();
    const park: Lease["park"] = async (wait) => {
      setTimeout(() => stop.abort(new Error("work queue shut down")), 5);
      return wait(stop.signal);
    };
    expect(await t.handle("ns/t", { park })).toEqual({ type: "retry" });
    expect(t.writes).toEqual([]);
    expect(t.events).toEqual([]);
  });

  it("Given a context without a lease / parked() should run the wait with ctx.signal", async () => {
    const signal = new AbortController().signal;
    let got: AbortSignal | undefined;
    await parked({ signal }, async (s) => {
      got = s;
    });
    expect(got).toBe(signal);
  });
});
