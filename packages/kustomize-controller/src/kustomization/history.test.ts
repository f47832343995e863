import { describe, expect, it } from "vitest";
import { maxHistory, recordHistory } from "./history.js";

const attempt = (digest: string, minute: number, status = "ReconciliationSucceeded") => ({
  digest,
  revision: `main@sha1:${digest}`,
  status,
  at: new Date(Date.UTC(2024, 0, 1, 0, minute)),
  durationMs: 1500,
});

describe("recordHistory", () => {
  it("Given a repeat of the same digest, should count it and keep when it was first reconciled", () => {
    const h1 = recordHistory(undefined, attempt("a", 0));
    const h2 = recordHistory(h1, attempt("a", 5, "HealthCheckFailed"));
    expect(h2).toHaveLength(1);
    expect(h2[0]).toMatchObject({
      digest: "a",
      firstReconciled: "2024-01-01T00:00:00Z",
      lastReconciled: "2024-01-01T00:05:00Z",
      lastReconciledStatus: "HealthCheckFailed",
      totalReconciliations: 2,
      metadata: { revision: "main@sha1:a" },
    });
  });

  it("Given more distinct digests than the limit, should keep the newest first", () => {
    let h = recordHistory(undefined, attempt("d0", 0));
    for (let i = 1; i < 8; i++) h = recordHistory(h, attempt(`d${i}`, i));
    expect(h.map((s) => s.digest)).toEqual(["d7", "d6", "d5", "d4", "d3"]);
    expect(h).toHaveLength(maxHistory);
  });
});
