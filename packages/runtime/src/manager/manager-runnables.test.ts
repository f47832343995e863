import { describe, expect, it } from "vitest";
import { Manager } from "./manager.js";
import { quietManagerOptions } from "./testing-options.js";
import type { LeaderCallbacks, Runnable } from "./types.js";

/** A manager with no informers and no servers, whose elector the test drives by hand. */
function managerWith(argv: string[]) {
  let callbacks: LeaderCallbacks | undefined;
  let released = 0;
  const manager = new Manager({
    ...quietManagerOptions(["--health-addr=0", "--metrics-addr=0", "--namespace=default", ...argv]),
    elector: () => ({
      run: (cb) => {
        callbacks = cb;
      },
      release: async () => {
        released++;
      },
    }),
  });
  return { manager, leader: () => callbacks, released: () => released };
}

/** A runnable that records its life in a shared journal. */
function recording(journal: string[], name: string, leaderOnly = false) {
  const r = {
    name,
    leaderOnly,
    signal: undefined as AbortSignal | undefined,
    start(signal: AbortSignal) {
      r.signal = signal;
      journal.push(`start ${name}`);
    },
    async stop() {
      journal.push(`stop ${name}`);
    },
  } satisfies Runnable & { signal: AbortSignal | undefined };
  return r;
}

const until = async (check: () => boolean) => {
  while (!check()) await new Promise((resolve) => setImmediate(resolve));
};

describe("Manager.add (runnables)", () => {
  it("Given leader election / should start plain runnables at once and leader-only ones on election, and stop them in reverse", async () => {
    const journal: string[] = [];
    const { manager, leader, released } = managerWith(["--leader-elect"]);
    manager.add(recording(journal, "receiver"));
    manager.add(recording(journal, "pipeline", true));
    const running = manager.start();
    await until(() => leader() !== undefined);
    expect(journal).toEqual(["start receiver"]);
    leader()?.onStartedLeading();
    await until(() => journal.length === 2);
    expect(journal).toEqual(["start receiver", "start pipeline"]);
    await manager.stop();
    await running;
    expect(journal).toEqual(["start receiver", "start pipeline", "stop pipeline", "stop receiver"]);
    expect(released()).toBe(1);
  });

  it("Given leadership is lost / should abort the leader-only runnable's signal and stop it, and start() should reject", async () => {
    const journal: string[] = [];
    const { manager, leader } = managerWith(["--leader-elect"]);
    const pipeline = recording(journal, "pipeline", true);
    manager.add(pipeline);
    const running = manager.start();
    await until(() => leader() !== undefined);
    leader()?.onStartedLeading();
    await until(() => pipeline.signal !== undefined);
    expect(pipeline.signal?.aborted).toBe(false);
    leader()?.onStoppedLeading();
    await expect(running).rejects.toThrow("leader election lost");
    expect(pipeline.signal?.aborted).toBe(true);
    expect(journal).toEqual(["start pipeline", "stop pipeline"]);
  });

  it("Given no leader election / should start leader-only runnables too", async () => {
    const journal: string[] = [];
    const { manager } = managerWith([]);
    manager.add(recording(journal, "receiver"));
    manager.add(recording(journal, "pipeline", true));
    const running = manager.start();
    await until(() => journal.length === 2);
    expect(journal).toEqual(["start receiver", "start pipeline"]);
    await manager.stop();
    await running;
  });

  it("Given a runnable that fails to start / should stop the manager and reject start() with the cause", async () => {
    const journal: string[] = [];
    const { manager } = managerWith([]);
    manager.add(recording(journal, "first"));
    manager.add({
      name: "broken",
      start: () => Promise.reject(new Error("port in use")),
      stop: () => undefined,
    });
    await expect(manager.start()).rejects.toThrow("start broken: port in use");
    expect(journal).toEqual(["start first", "stop first"]);
  });

  it("Given a started manager / should refuse add()", async () => {
    const { manager } = managerWith([]);
    const running = manager.start();
    expect(() => manager.add(recording([], "late"))).toThrow("before start()");
    await manager.stop();
    await running;
  });
});
