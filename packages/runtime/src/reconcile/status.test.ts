import { describe, expect, it } from "vitest";
import type { KubeObject } from "../contracts.js";
import { MemoryClient } from "../testing/memory-client.js";
import type { Condition, WithConditions } from "./conditions.js";
import { writeStatus } from "./status.js";

const cond = (type: string, message: string): Condition => ({
  type,
  status: "True",
  reason: "Because",
  message,
  lastTransitionTime: "2026-01-01T00:00:00Z",
});
const ref = { apiVersion: "example.dev/v1", kind: "Thing", namespace: "ns", name: "t" };

function seeded(conditions: Condition[]) {
  const client = new MemoryClient();
  client.seed({ ...ref, metadata: { name: "t", namespace: "ns" }, status: { conditions } } as KubeObject);
  const read = client.peek<WithConditions>(ref);
  if (!read) throw new Error("not seeded");
  return { client, read };
}

describe("writeStatus with owned conditions", () => {
  it("Given a condition of another manager in the object read / should write it back unchanged beside ours", async () => {
    const { client, read } = seeded([cond("Ready", "old"), cond("External", "theirs")]);
    read.status = { conditions: [cond("Ready", "new"), cond("External", "theirs")] };
    await writeStatus(client, read, "me", ["Ready"]);
    expect(client.peek<WithConditions>(ref)?.status?.conditions?.map((c) => `${c.type}:${c.message}`)).toEqual([
      "Ready:new",
      "External:theirs",
    ]);
  });

  it("Given another manager wrote after our read / should re-read on the conflict and keep what it wrote", async () => {
    const { client, read } = seeded([cond("Ready", "old")]);
    // Someone else adds a condition after we read the object.
    const theirs = client.peek<WithConditions>(ref);
    if (!theirs) throw new Error("gone");
    theirs.status = { conditions: [cond("Ready", "old"), cond("External", "added later")] };
    await client.applyStatus(theirs, { fieldManager: "other", force: true });

    read.status = { conditions: [cond("Ready", "new")] };
    const stored = await writeStatus(client, read, "me", ["Ready"]);
    const conditions = (stored as WithConditions).status?.conditions ?? [];
    expect(conditions.map((c) => `${c.type}:${c.message}`)).toEqual(["Ready:new", "External:added later"]);
    expect(read.metadata.resourceVersion).toBe(stored.metadata.resourceVersion);
    expect(client.writes.filter((w) => w.verb === "applyStatus" && w.fieldManager === "me")).toHaveLength(2);
  });

  it("Given an owned condition we no longer set / should drop it", async () => {
    const { client, read } = seeded([cond("Ready", "x"), cond("FetchFailed", "was failing")]);
    read.status = { conditions: [cond("Ready", "x")] };
    await writeStatus(client, read, "me", ["Ready", "FetchFailed"]);
    expect(client.peek<WithConditions>(ref)?.status?.conditions?.map((c) => c.type)).toEqual(["Ready"]);
  });
});
