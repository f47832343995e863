// Flux's rule for a source's Ready Event: a new artifact has its own Event, Ready's marks a recovery only.
import type { Condition, WithConditions } from "@capstan/runtime";
import { describe, expect, it } from "vitest";
import { sourceReadyEvent } from "./ready-event.js";

type Status = { artifact?: { digest: string }; conditions?: Condition[] };
const ready = (status: "True" | "False" | "Unknown"): Condition => ({
  type: "Ready",
  status,
  reason: status === "True" ? "Succeeded" : "GitOperationFailed",
  message: "",
  lastTransitionTime: "2026-12-03T08:00:00Z",
});
const obj = (status: Status): WithConditions => ({
  apiVersion: "source.toolkit.fluxcd.io/v1",
  kind: "GitRepository",
  metadata: { name: "app", namespace: "ns" },
  status,
});
const after = (digest?: string) => obj({ ...(digest ? { artifact: { digest } } : {}), conditions: [ready("True")] });

describe("sourceReadyEvent", () => {
  it("stays quiet when the pass stored a new artifact (its NewArtifact Event says it), first pass or not", () => {
    expect(sourceReadyEvent(undefined, after("sha256:a"))).toBe(false);
    expect(sourceReadyEvent({ conditions: [ready("False")] }, after("sha256:a"))).toBe(false);
    expect(
      sourceReadyEvent({ artifact: { digest: "sha256:a" }, conditions: [ready("False")] }, after("sha256:b")),
    ).toBe(false);
  });

  it("stays quiet on a pass that kept the artifact of a Ready source (a periodic reconcile)", () => {
    expect(sourceReadyEvent({ artifact: { digest: "sha256:a" }, conditions: [ready("True")] }, after("sha256:a"))).toBe(
      false,
    );
    expect(
      sourceReadyEvent({ artifact: { digest: "sha256:a" }, conditions: [ready("Unknown")] }, after("sha256:a")),
    ).toBe(false);
  });

  it("emits on recovery: Ready was False and the artifact is the one already stored", () => {
    expect(
      sourceReadyEvent({ artifact: { digest: "sha256:a" }, conditions: [ready("False")] }, after("sha256:a")),
    ).toBe(true);
    // A kind without an artifact (an OCI HelmRepository) recovers the same way.
    expect(sourceReadyEvent({ conditions: [ready("False")] }, after())).toBe(true);
  });
});
