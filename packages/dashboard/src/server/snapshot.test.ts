import { describe, expect, it } from "vitest";
import { byStateThenKey } from "../shared/order.js";
import type { EventView, Summary } from "../shared/types.js";
import { summary } from "../test/summary.js";
import { chunkSize, headApplications, headAttention, headEvents, oneMessageUpTo, splitSnapshot } from "./snapshot.js";

const event = (i: number): EventView => ({
  key: `team/e${i}`,
  namespace: "team",
  involved: { kind: "Kustomization", namespace: "team", name: "app" },
  type: "Normal",
  reason: "Progressing",
  message: "",
  count: 1,
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, 1000 - i)).toISOString(),
  source: "",
});

describe("Given the objects a user may see, split for the stream", () => {
  it("should send a few objects in one message, in the pages' order", () => {
    const items = [summary("Kustomization", "b", "x", "ready"), summary("Kustomization", "a", "y", "failing")];
    const split = splitSnapshot(items, [event(1)]);
    expect(split.head.map((s) => s.key)).toEqual(["Kustomization/a/y", "Kustomization/b/x"]);
    expect(split.rest).toEqual([]);
    expect(split.headEvents).toHaveLength(1);
    expect(split.counts.Kustomization).toEqual({
      ready: 1,
      failing: 1,
      stalled: 0,
      reconciling: 0,
      suspended: 0,
      unknown: 0,
    });
  });

  it("should put what the first screen shows first, and everything exactly once", () => {
    const items: Summary[] = [];
    // Many failing GitRepositories sort before every Kustomization: the first applications must still be in the head.
    for (let i = 0; i < 300; i++) items.push(summary("GitRepository", "ns", `repo-${i}`, "failing"));
    for (let i = 0; i < 3000; i++) items.push(summary("Kustomization", `ns-${i % 7}`, `app-${i}`, "ready"));
    for (let i = 0; i < 20; i++) items.push(summary("Kustomization", "ns", `broken-${i}`, "stalled"));
    items.push(summary("Deployment", "flux-system", "kustomize-controller", "ready"));
    const events = Array.from({ length: 300 }, (_, i) => event(i));
    expect(items.length).toBeGreaterThan(oneMessageUpTo);

    const split = splitSnapshot(items.reverse(), events);
    const sorted = [...items].sort(byStateThenKey);
    const headKeys = new Set(split.head.map((s) => s.key));
    // The overview's first failing and stalled objects, and the list's first rows, as computed from everything.
    const attention = sorted.filter((s) => s.state === "failing" || s.state === "stalled").slice(0, headAttention);
    const apps = sorted.filter((s) => s.kind === "Kustomization").slice(0, headApplications);
    for (const s of [...attention, ...apps]) expect(headKeys.has(s.key)).toBe(true);
    expect(headKeys.has("Deployment/flux-system/kustomize-controller")).toBe(true);
    expect(split.head).toEqual([...split.head].sort(byStateThenKey));

    const all = [...split.head, ...split.rest.flat()].map((s) => s.key);
    expect(new Set(all).size).toBe(items.length);
    expect(all).toHaveLength(items.length);
    for (const chunk of split.rest) expect(chunk.length).toBeLessThanOrEqual(chunkSize);
    expect(split.rest.flat()).toEqual([...split.rest.flat()].sort(byStateThenKey));

    expect(split.counts.Kustomization?.ready).toBe(3000);
    expect(split.counts.Kustomization?.stalled).toBe(20);
    expect(split.counts.GitRepository?.failing).toBe(300);
    expect(split.headEvents).toEqual(events.slice(0, headEvents));
    expect([...split.headEvents, ...split.restEvents]).toEqual(events);
  });
});
