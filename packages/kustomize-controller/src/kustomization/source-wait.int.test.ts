// A Kustomization whose source has no artifact yet: marked once (Flux's ArtifactFailed, "Source artifact not found,
// retrying in <--requeue-dependency>"), not retried in a loop while the source changes without an artifact, and
// woken by the source watch the moment the artifact appears (the fallback requeue here is 10 minutes, longer than
// the test waits). Reconciles are counted from the controller's gotk_reconcile_duration_seconds histogram.
import { gitRepositoryType } from "@capstan/api";
import { describe, expect, it } from "vitest";
import type { Harness } from "../testing/harness.js";
import { readyOf } from "../testing/harness.js";
import {
  configMap,
  failedWith,
  getConfigMap,
  kubeconfig,
  readyAt,
  scenario,
  untilKustomization,
} from "../testing/scenario.js";

async function reconciles(h: Harness, name: string): Promise<number> {
  const metric = h.manager.metrics.registry.getSingleMetric("gotk_reconcile_duration_seconds");
  // A histogram's values carry the series name (_bucket, _sum, _count), which prom-client's type leaves out.
  const values = ((await metric?.get())?.values ?? []) as {
    metricName?: string;
    labels: Record<string, string | number>;
    value: number;
  }[];
  const count = values.find(
    (v) =>
      v.metricName === "gotk_reconcile_duration_seconds_count" &&
      v.labels.name === name &&
      v.labels.namespace === h.namespace,
  );
  return count?.value ?? 0;
}

describe("a Kustomization whose source has no artifact yet", () => {
  it("Given the artifact appears later, should wait marked once, without a retry loop, then apply at once", async () => {
    const { h } = await scenario(kubeconfig(), "ks-src-wait", { options: { requeueDependencyMs: 600_000 } });
    const repo = { apiVersion: gitRepositoryType.apiVersion, kind: gitRepositoryType.kind };
    const metadata = { name: "pending", namespace: h.namespace };
    await h.client.apply(
      { ...repo, metadata, spec: { url: "https://git.invalid/r", interval: "10m" } },
      {
        fieldManager: "test",
      },
    );
    await h.kustomization("waits", {
      sourceRef: { kind: "GitRepository", name: "pending" },
      targetNamespace: h.namespace,
    });
    const waiting = await untilKustomization(h, "waits", "waiting for the artifact", failedWith("ArtifactFailed"));
    expect(readyOf(waiting)?.message).toBe("Source artifact not found, retrying in 10m0s");
    const marked = await reconciles(h, "waits");
    expect(marked).toBeGreaterThanOrEqual(1);
    expect(marked).toBeLessThanOrEqual(2);

    // The source's status moves (as source-controller's does while it fetches) without an artifact: nothing to wake.
    for (const step of ["cloning", "checking out", "packing"]) {
      const condition = {
        type: "Reconciling",
        status: "True",
        reason: "Progressing",
        message: step,
        lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      };
      await h.client.applyStatus(
        { ...repo, metadata, status: { conditions: [condition] } },
        {
          fieldManager: "source-controller",
          force: true,
        },
      );
    }

    const a = await h.artifact({ "cm.yaml": configMap("arrived", "1") });
    await h.publish("pending", a);
    await untilKustomization(h, "waits", "applied once the artifact appeared", readyAt(a.revision));
    expect((await getConfigMap(h, "arrived"))?.data).toEqual({ value: "1" });
    // The wait cost its first pass or two and the wake one; the status churn none (or one, coalesced in the queue).
    expect(await reconciles(h, "waits")).toBeLessThanOrEqual(marked + 2);
  }, 120_000);
});
