// A long reconcile shows what it is doing, as Flux's does: while the health checks wait on a Deployment that cannot
// be scheduled yet, status has Reconciling=True (reason Progressing) with Flux's message and Healthy Unknown; once the
// node it needs appears (a label on the kwok node), the reconcile ends Ready and the Reconciling condition is gone.
import { fakeNodeName } from "@capstan/cluster";
import { describe, expect, it, onTestFinished } from "vitest";
import { readyOf } from "../testing/harness.js";
import { deployment, kubeconfig, readyAt, scenario, untilKustomization } from "../testing/scenario.js";
import type { KustomizationObject } from "./types.js";

const condition = (k: KustomizationObject, type: string) => k.status?.conditions?.find((c) => c.type === type);

describe("reconcile progress in status", () => {
  it("Given a health check that waits, should show Reconciling with Flux's message during the wait and drop it when Ready", async () => {
    const { ns, h } = await scenario(kubeconfig(), "ks-progress", { options: { progressDelayMs: 200 } });
    const label = `capstan.dev/progress-${ns.name}`;
    const node = { apiVersion: "v1", kind: "Node", name: fakeNodeName };
    onTestFinished(async () => {
      await h.client.mergePatch(node, { metadata: { labels: { [label]: null } } });
    });
    const a = await h.artifact({ "deploy.yaml": deployment(1, { [label]: "true" }) });
    await h.publish("repo", a);
    await h.kustomization("app", { targetNamespace: ns.name, wait: true, timeout: "2m" });

    const waiting = await untilKustomization(
      h,
      "app",
      "Reconciling while the health checks run",
      (k) => condition(k, "Reconciling")?.message?.startsWith("Running health checks") ?? false,
    );
    expect(condition(waiting, "Reconciling")).toMatchObject({
      status: "True",
      reason: "Progressing",
      message: `Running health checks for revision ${a.revision} with a timeout of 2m0s`,
    });
    expect(condition(waiting, "Healthy")).toMatchObject({ status: "Unknown", reason: "Progressing" });
    // The objects are applied and on record before the wait: a crash now still prunes them later.
    expect(waiting.status?.inventory?.entries).toEqual([{ id: `${ns.name}_web_apps_Deployment`, v: "v1" }]);
    expect(waiting.status?.lastAttemptedRevision).toBe(a.revision);
    expect(waiting.status?.lastAppliedRevision).toBeUndefined();

    await h.client.mergePatch(node, { metadata: { labels: { [label]: "true" } } });
    const done = await untilKustomization(h, "app", "ready", readyAt(a.revision), 90_000);
    expect(condition(done, "Reconciling")).toBeUndefined();
    expect(condition(done, "Healthy")).toMatchObject({ status: "True", reason: "Succeeded" });
    expect(readyOf(done)).toMatchObject({ status: "True", reason: "ReconciliationSucceeded" });
  });
});
