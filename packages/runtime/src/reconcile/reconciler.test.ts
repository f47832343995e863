import { describe, expect, it } from "vitest";
import type { Cache, Client, KubeObject } from "../contracts.js";
import { createLogger } from "../telemetry/logger.js";
import { Metrics } from "../telemetry/metrics.js";
import type { WithConditions } from "./conditions.js";
import { createReconcileHandler } from "./reconciler.js";

type Thing = WithConditions & { status?: { seen?: string[]; conditions?: never[] } };

const thing = (rv: string, seen: string[]): Thing =>
  ({
    apiVersion: "example.dev/v1",
    kind: "Thing",
    metadata: { name: "t", namespace: "ns", resourceVersion: rv, generation: 1, finalizers: ["finalizers.fluxcd.io"] },
    spec: { interval: "1m" },
    status: { seen },
  }) as unknown as Thing;

/** A cache that lags: it holds whatever the test puts there, not what the handler wrote. */
function setup() {
  let cached = thing("1", []);
  let live = cached;
  let rv = 1;
  const gets: string[] = [];
  const client = {
    get: async () => {
      gets.push(live.metadata.resourceVersion ?? "");
      return structuredClone(live);
    },
    applyStatus: async (o: KubeObject & { status?: Thing["status"] }) => {
      live = { ...structuredClone(live), metadata: { ...live.metadata, resourceVersion: String(++rv) } };
      live.status = structuredClone(o.status) ?? {};
      return structuredClone(live);
    },
  } as unknown as Client;
  const cache: Cache<Thing> = { get: () => cached, list: () => [cached] };
  const seenByStep: string[][] = [];
  const handle = createReconcileHandler<Thing, Record<string, never>>(
    {
      name: "thing",
      type: { group: "example.dev", version: "v1", kind: "Thing", plural: "things", namespaced: true },
      conditions: { owned: [], summarize: [], negativePolarity: [] },
      steps: [
        async (_ctx, obj) => {
          const seen = [...(obj.status?.seen ?? [])];
          seenByStep.push(seen);
          obj.status = { ...obj.status, seen: [...seen, `pass${seenByStep.length}`] };
          return undefined;
        },
      ],
    },
    {
      client,
      cache,
      events: { event: () => undefined },
      log: createLogger({ level: "error" }),
      metrics: new Metrics(),
      fieldManager: "thing-controller",
    },
  );
  return {
    handle,
    gets,
    seenByStep,
    catchUp: () => {
      cached = live;
    },
  };
}

describe("createReconcileHandler", () => {
  it("Given a cache that has not delivered the status the last reconcile wrote, should read the object instead", async () => {
    const t = setup();
    await t.handle("ns/t");
    // The informer is behind: the second pass must still build on the first pass's status.
    await t.handle("ns/t");
    expect(t.seenByStep).toEqual([[], ["pass1"]]);
    expect(t.gets).toHaveLength(1);
  });

  it("Given a cache that caught up with the last write, should not read the object", async () => {
    const t = setup();
    await t.handle("ns/t");
    t.catchUp();
    await t.handle("ns/t");
    expect(t.seenByStep).toEqual([[], ["pass1"]]);
    expect(t.gets).toEqual([]);
  });
});
