// The status write against the real apiserver, on a kind whose status.conditions is an atomic list as in Flux's CRDs
// (GitRepository): a condition another field manager writes while a reconcile runs must survive the reconcile's
// forced apply of the whole list.
import { gitRepositoryType } from "@capstan/api";
import { ensureCrds } from "@capstan/api/testing";
import { createTestNamespace, loadKubeConfig, type TestNamespace, testKubeconfigPath } from "@capstan/cluster/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { KubeClient } from "../client/kube-client.js";
import type { KubeObject } from "../contracts.js";
import { createLogger } from "../telemetry/logger.js";
import { Metrics } from "../telemetry/metrics.js";
import { getCondition, markTrue, type WithConditions } from "./conditions.js";
import { createReconcileHandler } from "./reconciler.js";
import type { ReconcilerDefinition } from "./types.js";

describe("status writes and conditions of other field managers (real apiserver, atomic conditions list)", () => {
  let client: KubeClient;
  let ns: TestNamespace;

  beforeAll(async () => {
    const path = testKubeconfigPath(inject("capstanKubeconfig"));
    await ensureCrds(path);
    client = new KubeClient({ kubeconfigPath: path });
    ns = await createTestNamespace(loadKubeConfig(path), "status-merge");
  });
  afterAll(async () => {
    await ns?.delete();
    client?.close();
  });

  const ref = (name: string) => ({
    apiVersion: gitRepositoryType.apiVersion,
    kind: "GitRepository",
    namespace: ns.name,
    name,
  });
  const foreign = {
    type: "ExternalCheck",
    status: "True",
    reason: "Verified",
    message: "checked by another tool",
    lastTransitionTime: "2026-01-01T00:00:00Z",
  };
  /** What another tool does: read, add its condition to the (atomic) list, apply it under its own manager. */
  const writeForeignCondition = async (name: string) => {
    const live = await client.get<WithConditions>(ref(name));
    await client.applyStatus(
      {
        apiVersion: gitRepositoryType.apiVersion,
        kind: "GitRepository",
        metadata: { name, namespace: ns.name },
        status: { conditions: [...(live?.status?.conditions ?? []), foreign] },
      },
      { fieldManager: "external-checker", force: true },
    );
  };

  it("Given another manager adds a condition while a reconcile runs / should keep it beside the reconciler's conditions", async () => {
    await client.create({
      apiVersion: gitRepositoryType.apiVersion,
      kind: "GitRepository",
      metadata: { name: "shared", namespace: ns.name },
      spec: { url: "https://example.com/repo.git", interval: "10m" },
    } as KubeObject);
    const snapshot = await client.get<WithConditions>(ref("shared"));
    if (!snapshot) throw new Error("created object not found");
    const def: ReconcilerDefinition<WithConditions, Record<string, never>> = {
      name: "gitrepository",
      type: gitRepositoryType,
      finalizer: null,
      conditions: { owned: ["ArtifactInStorage"], summarize: ["ArtifactInStorage"], negativePolarity: [] },
      steps: [
        async (_ctx, obj) => {
          // The reconcile has read the object; the other tool writes now, before the reconcile's status write.
          await writeForeignCondition("shared");
          markTrue(obj, "ArtifactInStorage", "Succeeded", "stored");
        },
      ],
    };
    const handle = createReconcileHandler(def, {
      client,
      cache: { get: () => snapshot, list: () => [snapshot] },
      events: { event: () => undefined },
      log: createLogger({ level: "error" }),
      metrics: new Metrics({ defaultMetrics: false }),
      fieldManager: "source-controller",
    });
    expect(await handle(`${ns.name}/shared`)).toEqual({ type: "requeueAfter", delayMs: expect.any(Number) });

    const after = await client.get<WithConditions>(ref("shared"));
    if (!after) throw new Error("object gone");
    expect(getCondition(after, "ExternalCheck")).toMatchObject({ status: "True", reason: "Verified" });
    expect(getCondition(after, "ArtifactInStorage")).toMatchObject({ status: "True", message: "stored" });
    expect(getCondition(after, "Ready")).toMatchObject({ status: "True" });
  });
});
