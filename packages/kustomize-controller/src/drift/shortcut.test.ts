import { describe, expect, it } from "vitest";
import { type ApplyFacts, ApplyShortcut } from "./shortcut.js";
import type { DriftView } from "./watcher.js";

function view() {
  const state = { seq: 0, token: "apps/Deployment#1" as string | undefined, owned: true };
  const v: DriftView = { seq: () => state.seq, token: () => state.token, ownsAll: () => state.owned };
  return { state, v };
}

const facts: ApplyFacts = {
  uid: "u1",
  generation: 1,
  requestedAt: undefined,
  digest: "sha256:a",
  kinds: ["apps/Deployment"],
  ids: ["apps_web_apps_Deployment"],
};

function committed(fullEvery = 3) {
  const { state, v } = view();
  const s = new ApplyShortcut(v, fullEvery);
  s.commit("ns/k", s.begin("ns/k", facts.kinds), facts);
  return { s, state };
}

describe("ApplyShortcut", () => {
  it("Given an unchanged set and no drift, should skip all but every Nth reconcile", () => {
    const { s } = committed(3);
    expect([s.trySkip("ns/k", facts), s.trySkip("ns/k", facts), s.trySkip("ns/k", facts)]).toEqual([true, true, false]);
  });

  it.each([
    ["a drift event arrived", (st: { seq: number }) => (st.seq = 1), facts],
    ["the watch restarted", (st: { token: string | undefined }) => (st.token = "apps/Deployment#2"), facts],
    ["the watch is not synced", (st: { token: string | undefined }) => (st.token = undefined), facts],
    [
      "an object carries another Kustomization's owner labels (or is gone)",
      (st: { owned: boolean }) => (st.owned = false),
      facts,
    ],
    ["the rendered objects changed", () => undefined, { ...facts, digest: "sha256:b" }],
    ["the spec changed", () => undefined, { ...facts, generation: 2 }],
    ["a reconcile was requested", () => undefined, { ...facts, requestedAt: "now" }],
    ["the Kustomization was recreated", () => undefined, { ...facts, uid: "u2" }],
  ])("Given %s, should not skip", (_what, change, next) => {
    const { s, state } = committed();
    change(state as never);
    expect(s.trySkip("ns/k", next)).toBe(false);
  });

  it("Given a full apply that began before the watch synced, should not record it", () => {
    const { state, v } = view();
    state.token = undefined;
    const s = new ApplyShortcut(v, 3);
    const ticket = s.begin("ns/k", facts.kinds);
    state.token = "apps/Deployment#1";
    s.commit("ns/k", ticket, facts);
    expect(s.trySkip("ns/k", facts)).toBe(false);
  });

  it("Given drift during a full apply, should not skip the next reconcile", () => {
    const { state, v } = view();
    const s = new ApplyShortcut(v, 3);
    const ticket = s.begin("ns/k", facts.kinds);
    state.seq = 1;
    s.commit("ns/k", ticket, facts);
    expect(s.trySkip("ns/k", facts)).toBe(false);
  });
});
