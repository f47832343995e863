import { describe, expect, it, vi } from "vitest";
import { ExponentialBackoff } from "./rate-limiter.js";
import { WorkQueue } from "./work-queue.js";
import { startWorkers } from "./workers.js";

const tick = () => new Promise((r) => setImmediate(r));

describe("WorkQueue", () => {
  it("Given a key that waited in the queue, takeWait should tell how long, once", async () => {
    let now = 1000;
    const q = new WorkQueue<string>({ now: () => now });
    q.add("a");
    now += 250;
    expect(await q.get()).toBe("a");
    expect(q.takeWait("a")).toBe(0.25);
    expect(q.takeWait("a")).toBeUndefined();
    q.done("a");
  });

  it("Given a key added again while it waited / takeRequestedAt should name the latest add, once", async () => {
    let now = 1000;
    const q = new WorkQueue<string>({ now: () => now });
    q.add("a");
    now = 1100;
    q.add("a"); // deduplicated, but an event newer than the first add: the hand-out answers it too
    now = 1300;
    expect(await q.get()).toBe("a");
    expect(q.takeRequestedAt("a")).toBe(1100);
    expect(q.takeRequestedAt("a")).toBeUndefined();
    now = 1400;
    q.add("a"); // while processing: it belongs to the next hand-out
    q.done("a");
    expect(await q.get()).toBe("a");
    expect(q.takeRequestedAt("a")).toBe(1400);
    q.done("a");
  });

  it("Given a key added three times before a worker takes it, should hand it out once", async () => {
    const q = new WorkQueue<string>();
    q.add("a");
    q.add("a");
    q.add("a");
    q.add("b");
    expect(q.length).toBe(2);
    expect(await q.get()).toBe("a");
    expect(await q.get()).toBe("b");
    expect(q.length).toBe(0);
  });

  it("Given a key added while a worker holds it, should not hand it to another worker but run it once more after done", async () => {
    const q = new WorkQueue<string>();
    q.add("a");
    const first = await q.get();
    q.add("a");
    q.add("a");
    let second: string | undefined;
    void q.get().then((k) => {
      second = k;
    });
    await tick();
    expect(second).toBeUndefined();
    q.done(first!);
    await tick();
    expect(second).toBe("a");
    q.done("a");
    expect(q.length).toBe(0);
  });

  it("Given addAfter twice for one key, should keep the earlier time", async () => {
    vi.useFakeTimers();
    try {
      const q = new WorkQueue<string>();
      q.addAfter("a", 10_000);
      q.addAfter("a", 1_000);
      q.addAfter("a", 5_000);
      vi.advanceTimersByTime(999);
      expect(q.length).toBe(0);
      vi.advanceTimersByTime(1);
      expect(q.length).toBe(1);
      vi.advanceTimersByTime(10_000);
      expect(q.length).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it("Given shutDown, should ignore adds, cancel delayed adds, resolve waiting getters and drain in-flight work", async () => {
    const q = new WorkQueue<string>();
    q.add("a");
    q.add("b");
    const held = await q.get();
    q.addAfter("c", 10);
    const waiting = q.get(); // takes b
    const third = q.get(); // waits
    expect(await waiting).toBe("b");
    q.shutDown();
    expect(await third).toBeUndefined();
    q.add("d");
    expect(q.length).toBe(0);
    let drained = false;
    const drain = q.drain().then(() => {
      drained = true;
    });
    q.done(held!);
    await tick();
    expect(drained).toBe(false);
    q.done("b");
    await drain;
    expect(drained).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(q.length).toBe(0);
  });
});

describe("ExponentialBackoff", () => {
  it.each([
    [1, 750],
    [2, 1500],
    [3, 3000],
    [5, 12_000],
    [12, 900_000],
    [100, 900_000],
  ])("Given %i consecutive failures, should wait %i ms for the last", (failures, expected) => {
    const b = new ExponentialBackoff<string>();
    let last = 0;
    for (let i = 0; i < failures; i++) last = b.when("k");
    expect(last).toBe(expected);
    expect(b.numRequeues("k")).toBe(failures);
  });

  it("Given forget after failures, should start again at the base delay and leave other keys alone", () => {
    const b = new ExponentialBackoff<string>();
    b.when("k");
    b.when("k");
    b.when("other");
    b.forget("k");
    expect(b.when("k")).toBe(750);
    expect(b.when("other")).toBe(1500);
  });
});

describe("startWorkers", () => {
  it("Given many adds of few keys with 4 workers, should never run one key twice at once and see the last add", async () => {
    const q = new WorkQueue<string>();
    const running = new Set<string>();
    let overlap = 0;
    const seen = new Map<string, number>();
    const version = new Map<string, number>();
    const pool = startWorkers(q, 4, async (key) => {
      if (running.has(key)) overlap++;
      running.add(key);
      const v = version.get(key) ?? 0;
      await new Promise((r) => setTimeout(r, Math.random() * 3));
      seen.set(key, v);
      running.delete(key);
      return { type: "done" };
    });
    for (let i = 1; i <= 200; i++) {
      const key = `k${i % 5}`;
      version.set(key, i);
      q.add(key);
      if (i % 7 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await vi.waitFor(() => expect(q.length + q.processing).toBe(0));
    q.shutDown();
    await pool.finished;
    expect(overlap).toBe(0);
    for (const [key, v] of version) expect(seen.get(key)).toBe(v);
  });

  it("Given a handler that fails twice then succeeds, should retry with backoff and forget it on success", async () => {
    const q = new WorkQueue<string>({ backoff: { baseDelayMs: 5, maxDelayMs: 50 } });
    let calls = 0;
    const errors: unknown[] = [];
    const pool = startWorkers(
      q,
      1,
      async () => {
        calls++;
        if (calls <= 2) throw new Error(`boom ${calls}`);
        return { type: "done" };
      },
      (_key, err) => errors.push(err),
    );
    q.add("k");
    await vi.waitFor(() => expect(calls).toBe(3));
    await vi.waitFor(() => expect(q.numRequeues("k")).toBe(0));
    expect(errors).toHaveLength(2);
    q.shutDown();
    await pool.finished;
  });

  it("Given a requeueAfter outcome, should run the key again after the delay", async () => {
    const q = new WorkQueue<string>();
    let calls = 0;
    const pool = startWorkers(q, 2, async () => {
      calls++;
      return calls < 3 ? { type: "requeueAfter", delayMs: 5 } : { type: "done" };
    });
    q.add("k");
    await vi.waitFor(() => expect(calls).toBe(3));
    q.shutDown();
    await pool.finished;
  });
});
