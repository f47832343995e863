import { describe, expect, it } from "vitest";
import type { Client, KubeObject, ObjectRef } from "../kube.js";
import { type HealthCache, waitForSet } from "./wait.js";

const ref: ObjectRef = { apiVersion: "apps/v1", kind: "Deployment", name: "web", namespace: "apps" };
const hour = 3_600_000;

/** A Deployment whose status observes generation 2 once `observed` is set; counts the reads. */
function fakeCluster() {
  const state = { observed: false, reads: 0 };
  const client = {
    get: async () => {
      state.reads++;
      return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "web", namespace: "apps", generation: 2 },
        spec: { replicas: 1 },
        status: {
          observedGeneration: state.observed ? 2 : 1,
          replicas: 1,
          updatedReplicas: 1,
          readyReplicas: 1,
          availableReplicas: 1,
          conditions: [
            { type: "Progressing", status: "True", reason: "NewReplicaSetAvailable" },
            { type: "Available", status: "True" },
          ],
        },
      } as KubeObject;
    },
  } as unknown as Client;
  return { client, state };
}

describe("waitForSet with changes", () => {
  it("looks again when an object changes, not only at the next poll", async () => {
    const { client, state } = fakeCluster();
    let notify: (() => void) | undefined;
    let unsubscribed = false;
    const done = waitForSet(client, [ref], {
      // A poll an hour away: only the change can end this wait within the test's timeout.
      intervalMs: hour,
      timeoutMs: 2 * hour,
      settleMs: 0,
      changes: (changed) => {
        notify = changed;
        return () => {
          unsubscribed = true;
        };
      },
    });
    await expect.poll(() => state.reads).toBe(1);
    state.observed = true;
    notify?.();
    await done;
    expect(state.reads).toBe(2);
    expect(unsubscribed).toBe(true);
  });

  it("a change that lands while the objects are being read still wakes the wait", async () => {
    const { client, state } = fakeCluster();
    let notify: (() => void) | undefined;
    const racing = {
      get: async (r: ObjectRef) => {
        const obj = await client.get(r);
        // The object turns Current right after this read answered, its event before the wait began.
        if (state.reads === 1) {
          state.observed = true;
          notify?.();
        }
        return obj;
      },
    } as unknown as Client;
    await waitForSet(racing, [ref], {
      intervalMs: hour,
      timeoutMs: 2 * hour,
      settleMs: 0,
      changes: (changed) => {
        notify = changed;
        return () => {};
      },
    });
    expect(state.reads).toBe(2);
  });

  it("an abort ends the wait", async () => {
    const { client } = fakeCluster();
    const abort = new AbortController();
    const done = waitForSet(client, [ref], {
      intervalMs: hour,
      timeoutMs: 2 * hour,
      signal: abort.signal,
      changes: () => () => {},
    });
    abort.abort(new Error("stop"));
    await expect(done).rejects.toThrow("stop");
  });
});

/** A cache answering with `lookup`, counting the live reads it lets through. */
function countedTurns(lookup: HealthCache["lookup"]): HealthCache & { turns: number } {
  const cache = {
    turns: 0,
    lookup,
    beforeRead: async () => {
      cache.turns++;
    },
  };
  return cache;
}

describe("waitForSet with a cache (Capstan)", () => {
  const current = (generation: number): KubeObject => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "apps", generation },
    spec: { replicas: 1 },
    status: {
      observedGeneration: generation,
      replicas: 1,
      updatedReplicas: 1,
      readyReplicas: 1,
      availableReplicas: 1,
      conditions: [
        { type: "Progressing", status: "True", reason: "NewReplicaSetAvailable" },
        { type: "Available", status: "True" },
      ],
    },
  });

  it("reads a fresh copy from the cache and never the apiserver", async () => {
    const { client, state } = fakeCluster();
    await waitForSet(client, [ref], {
      intervalMs: hour,
      timeoutMs: 2 * hour,
      cache: { lookup: () => ({ state: "fresh", obj: current(2) }) },
    });
    expect(state.reads).toBe(0);
  });

  it("waits for the watch while the copy is stale, without reading the apiserver, and passes when the event brings it", async () => {
    const { client, state } = fakeCluster();
    let cached: KubeObject | undefined;
    let notify: (() => void) | undefined;
    const done = waitForSet(client, [ref], {
      intervalMs: hour,
      timeoutMs: 2 * hour,
      settleMs: 0,
      changes: (changed) => {
        notify = changed;
        return () => {};
      },
      cache: { lookup: () => (cached ? { state: "fresh", obj: cached } : { state: "stale" }) },
    });
    await new Promise((r) => setTimeout(r, 50));
    cached = current(2);
    notify?.();
    await done;
    expect(state.reads).toBe(0);
  });

  it("reads a stale object live once the interval passed, through beforeRead", async () => {
    const { client, state } = fakeCluster();
    state.observed = true;
    const cache = countedTurns(() => ({ state: "stale" }));
    await waitForSet(client, [ref], { intervalMs: 30, timeoutMs: hour, settleMs: 0, changes: () => () => {}, cache });
    expect(state.reads).toBe(1);
    expect(cache.turns).toBe(1);
  });

  it("reads live what the cache cannot answer, each read taking its turn", async () => {
    const { client, state } = fakeCluster();
    state.observed = true;
    const cache = countedTurns(() => undefined);
    await waitForSet(client, [ref, { ...ref, name: "api" }], { intervalMs: hour, timeoutMs: 2 * hour, cache });
    expect(state.reads).toBe(2);
    expect(cache.turns).toBe(2);
  });

  it("an abort while waiting for a turn ends the wait", async () => {
    const { client, state } = fakeCluster();
    const abort = new AbortController();
    const done = waitForSet(client, [ref], {
      intervalMs: hour,
      timeoutMs: 2 * hour,
      signal: abort.signal,
      cache: {
        lookup: () => undefined,
        beforeRead: (signal) =>
          new Promise((_resolve, reject) => signal?.addEventListener("abort", () => reject(signal.reason))),
      },
    });
    abort.abort(new Error("stop"));
    await expect(done).rejects.toThrow("stop");
    expect(state.reads).toBe(0);
  });
});
