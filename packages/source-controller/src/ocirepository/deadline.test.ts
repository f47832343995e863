// A pull's deadline: cancelled by the parent or by the timeout, and leaving nothing on the long-lived parent.
import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { deadline } from "./deadline.js";

describe("deadline", () => {
  it("Given the parent aborts / should abort with it", () => {
    const parent = new AbortController();
    const d = deadline(parent.signal, 60_000);
    parent.abort();
    expect(d.signal.aborted).toBe(true);
    d.dispose();
  });

  it("Given the timeout passes / should abort as a TimeoutError", async () => {
    const d = deadline(new AbortController().signal, 1);
    await new Promise((r) => d.signal.addEventListener("abort", r, { once: true }));
    expect((d.signal.reason as DOMException).name).toBe("TimeoutError");
    d.dispose();
  });

  it("Given many pulls that ended / should leave no listener on the parent", () => {
    const parent = new AbortController().signal;
    for (let i = 0; i < 1000; i++) deadline(parent, 60_000).dispose();
    expect(getEventListeners(parent, "abort")).toHaveLength(0);
  });
});
