import { describe, expect, it } from "vitest";
import type { Client, KubeObject, ObjectRef } from "../kube.js";
import { waitForSet } from "./wait.js";

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
