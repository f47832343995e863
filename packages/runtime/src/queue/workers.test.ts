// Parking (Capstan): a handler that waits on something costing no CPU gives its worker to the next key and takes one
// back when the wait ends; the key stays processing all along.
import { describe, expect, it, vi } from "vitest";
import { WorkQueue } from "./work-queue.js";
import { defaultParkedPerWorker, type Lease, type Outcome, startWorkers } from "./workers.js";

/** A promise the test resolves when it says so. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Waits for `g` or until the signal aborts, as a health wait does. */
function until(g: { promise: Promise<void> }, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    void g.promise.then(resolve);
  });
}

const done: Outcome = { type: "done" };

describe("startWorkers: park", () => {
  it("Given one worker and a handler parked on a wait / should handle another key meanwhile, and resume the parked one when the wait ends", async () => {
    const q = new WorkQueue<string>();
    const healthy = gate();
    const log: string[] = [];
    const pool = startWorkers(q, 1, async (key, lease) => {
      log.push(`${key} start`);
      if (key === "a") await lease.park((signal) => until(healthy, signal));
      log.push(`${key} end`);
      return done;
    });
    q.add("a");
    q.add("b");
    await vi.waitFor(() => expect(log).toEqual(["a start", "b start", "b end"]));
    expect(pool.parked()).toBe(1);
    expect(pool.active()).toBe(0);
    expect(q.processing).toBe(1); // a is still processing: parked is not done
    healthy.open();
    await vi.waitFor(() => expect(log).toEqual(["a start", "b start", "b end", "a end"]));
    expect(pool.parked()).toBe(0);
    q.shutDown();
    await pool.finished;
  });

  it("Given a parked key added again / should not start a second handler of it, and run it once more after it finished", async () => {
    const q = new WorkQueue<string>();
    const healthy = gate();
    let calls = 0;
    let running = 0;
    let overlap = 0;
    const pool = startWorkers(q, 2, async (_key, lease) => {
      calls++;
      if (++running > 1) overlap++;
      if (calls === 1) await lease.park((signal) => until(healthy, signal));
      running--;
      return done;
    });
    q.add("a");
    await vi.waitFor(() => expect(pool.parked()).toBe(1));
    q.add("a"); // an event while it waits: dirty
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(1);
    healthy.open();
    await vi.waitFor(() => expect(calls).toBe(2));
    await vi.waitFor(() => expect(q.processing).toBe(0));
    expect(overlap).toBe(0);
    q.shutDown();
    await pool.finished;
  });

  it("Given a wait that ends while every worker is busy / should resume before keys that were not started", async () => {
    const q = new WorkQueue<string>();
    const healthy = gate();
    const bDone = gate();
    const log: string[] = [];
    const pool = startWorkers(q, 1, async (key, lease) => {
      log.push(`${key} start`);
      if (key === "a") await lease.park((signal) => until(healthy, signal));
      if (key === "b") await bDone.promise; // b holds the only worker
      log.push(`${key} end`);
      return done;
    });
    q.add("a");
    q.add("b");
    await vi.waitFor(() => expect(log).toEqual(["a start", "b start"]));
    q.add("c");
    healthy.open();
    await new Promise((r) => setTimeout(r, 10));
    expect(log).toEqual(["a start", "b start"]); // a waits for a worker: b holds it
    bDone.open();
    await vi.waitFor(() => expect(log).toEqual(["a start", "b start", "b end", "a end", "c start", "c end"]));
    q.shutDown();
    await pool.finished;
  });

  it("Given maxParked reached / should run the next wait holding its worker", async () => {
    const q = new WorkQueue<string>();
    const healthy = gate();
    const log: string[] = [];
    const pool = startWorkers(
      q,
      1,
      async (key, lease) => {
        log.push(`${key} start`);
        if (key !== "c") await lease.park((signal) => until(healthy, signal));
        log.push(`${key} end`);
        return done;
      },
      undefined,
      { maxParked: 1 },
    );
    q.add("a");
    q.add("b");
    q.add("c");
    await vi.waitFor(() => expect(log).toEqual(["a start", "b start"]));
    await new Promise((r) => setTimeout(r, 20));
    expect(log).toEqual(["a start", "b start"]); // b waits holding the worker: c does not start
    expect([pool.parked(), pool.active()]).toEqual([1, 1]);
    healthy.open();
    await vi.waitFor(() => expect(log).toContain("c end"));
    q.shutDown();
    await pool.finished;
  });

  it("Given no maxParked / should park at most defaultParkedPerWorker × the workers, the next wait holding its worker", async () => {
    const q = new WorkQueue<string>();
    const healthy = gate();
    const workers = 2;
    const bound = defaultParkedPerWorker * workers;
    const started: string[] = [];
    const pool = startWorkers(q, workers, async (key, lease) => {
      started.push(key);
      await lease.park((signal) => until(healthy, signal));
      return done;
    });
    for (let i = 0; i < bound + 5; i++) q.add(`k${i}`);
    // `bound` park, the next two wait holding both workers, the rest are not started.
    await vi.waitFor(() => expect(started).toHaveLength(bound + workers));
    await new Promise((r) => setTimeout(r, 20));
    expect(started).toHaveLength(bound + workers);
    expect([pool.parked(), pool.active()]).toEqual([bound, workers]);
    healthy.open();
    await vi.waitFor(() => expect(q.length + q.processing).toBe(0));
    q.shutDown();
    await pool.finished;
  });

  it("Given parked waits when the queue shuts down / should cancel them through their signal and finish", async () => {
    const q = new WorkQueue<string>();
    const never = gate();
    const errors: string[] = [];
    const counts: { active: number; parked: number }[] = [];
    const pool = startWorkers(
      q,
      1,
      async (_key, lease: Lease) => {
        try {
          await lease.park((signal) => until(never, signal));
        } catch (err) {
          errors.push((err as Error).message);
        }
        return done;
      },
      undefined,
      { onChange: (c) => counts.push(c) },
    );
    q.add("a");
    q.add("b");
    await vi.waitFor(() => expect(pool.parked()).toBe(2));
    expect(counts).toContainEqual({ active: 0, parked: 2 });
    q.shutDown();
    await pool.finished;
    await q.drain();
    expect(errors).toEqual(["work queue shut down", "work queue shut down"]);
    expect([pool.active(), pool.parked(), q.processing]).toEqual([0, 0, 0]);
  });

  it("Given a handler that throws after its park / should retry the key and free the worker", async () => {
    const q = new WorkQueue<string>({ backoff: { baseDelayMs: 5, maxDelayMs: 5 } });
    let calls = 0;
    const pool = startWorkers(q, 1, async (_key, lease) => {
      calls++;
      await lease.park(async () => undefined);
      if (calls === 1) throw new Error("boom");
      return done;
    });
    q.add("a");
    await vi.waitFor(() => expect(calls).toBe(2));
    await vi.waitFor(() => expect(q.processing).toBe(0));
    expect(pool.active()).toBe(0);
    q.shutDown();
    await pool.finished;
  });
});

describe("startWorkers: park under churn", () => {
  it("Given many keys that park for random times with 2 workers / should never run more than 2 at once nor one key twice, and see every last add", async () => {
    const q = new WorkQueue<string>();
    let working = 0;
    let most = 0;
    const running = new Set<string>();
    let overlap = 0;
    const version = new Map<string, number>();
    const seen = new Map<string, number>();
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const busy = async () => {
      working++;
      most = Math.max(most, working);
      await sleep(Math.random() * 2);
      working--;
    };
    const pool = startWorkers(
      q,
      2,
      async (key, lease) => {
        if (running.has(key)) overlap++;
        running.add(key);
        const v = version.get(key) ?? 0;
        await busy();
        await lease.park(() => sleep(Math.random() * 5));
        await busy();
        seen.set(key, v);
        running.delete(key);
        return done;
      },
      undefined,
      { maxParked: 5 },
    );
    for (let i = 1; i <= 300; i++) {
      const key = `k${i % 13}`;
      version.set(key, i);
      q.add(key);
      if (i % 5 === 0) await sleep(1);
    }
    await vi.waitFor(() => expect(q.length + q.processing).toBe(0), { timeout: 20_000 });
    q.shutDown();
    await pool.finished;
    expect(overlap).toBe(0);
    expect(most).toBeLessThanOrEqual(2);
    for (const [key, v] of version) expect(seen.get(key)).toBe(v);
  });
});

describe("WorkQueue.get(signal)", () => {
  it("Given an idle getter whose signal aborts / should resolve undefined and leave the next key to the next getter", async () => {
    const q = new WorkQueue<string>();
    const abort = new AbortController();
    const first = q.get(abort.signal);
    abort.abort();
    expect(await first).toBeUndefined();
    q.add("a");
    expect(await q.get()).toBe("a");
    expect(q.shuttingDown).toBe(false);
  });
});
