// The pipeline with its mark in a real ConfigMap, against the real control plane: notifications across restarts are
// sent once per transition, none lost, none repeated.
import { alertType, gitRepositoryType } from "@capstan/api";
import type { KubeObject } from "@capstan/runtime";
import { describe, expect, it } from "vitest";
import { DeliveryQueues } from "../delivery/queues.js";
import type { WatchedObject } from "../events/watched.js";
import { createNotifier } from "../providers/notifier.js";
import { type RepoStatus, rev, setRepo } from "../testing/cluster.js";
import { testNamespace, useControlPlane } from "../testing/harness.js";
import { startRecorder } from "../testing/recorder.js";
import { compileAlert } from "./matching.js";
import { EventPipeline } from "./pipeline.js";
import { EventRateLimiter } from "./ratelimit.js";
import { ConfigMapWatermarkStore, watermarkConfigMapName } from "./watermark-store.js";

const cp = useControlPlane();
const fm = { fieldManager: "notification-controller-test", force: true };
const T0 = "2024-03-01T10:00:00Z";
const ok = { status: "True" as const, reason: "Succeeded", message: "stored artifact" };

const repo = (ns: string, name: string, revision: string, ready: Omit<RepoStatus["ready"], "at">) =>
  setRepo(cp.client, ns, name, { revision, at: T0, ready: { ...ready, at: T0 } });

describe("notifications across a restart, marked in a ConfigMap", () => {
  it("Given transitions before, during and after a restart / should notify each once, none lost, none repeated", async () => {
    const ns = await testNamespace(cp, "notif-mark");
    const hook = await startRecorder();
    const alert = await cp.client.apply<KubeObject>(
      {
        apiVersion: alertType.apiVersion,
        kind: "Alert",
        metadata: { name: "ops", namespace: ns },
        spec: { providerRef: { name: "hook" }, eventSources: [{ kind: "GitRepository", name: "app-*" }] },
      },
      fm,
    );
    const repoType = await cp.client.resourceFor(gitRepositoryType.apiVersion, "GitRepository");
    let snapshot: WatchedObject[] = [];
    const refresh = async () => {
      snapshot = (await cp.client.list<WatchedObject & KubeObject>(repoType, { namespace: ns })).items;
    };
    const run = async () => {
      const queues = new DeliveryQueues({
        policy: { maxAttempts: 2, baseDelayMs: 20, maxDelayMs: 50, maxRetryAfterMs: 50 },
      });
      const notifier = createNotifier({ type: "generic", uid: "p", address: hook.url, timeoutMs: 2_000 });
      const pipeline = new EventPipeline({
        store: new ConfigMapWatermarkStore(cp.client),
        queues,
        limiter: new EventRateLimiter(5 * 60_000),
        listObjects: () => snapshot,
        flushDelayMs: 10,
      });
      await pipeline.setAlert({
        identity: {
          apiVersion: alertType.apiVersion,
          namespace: ns,
          name: "ops",
          uid: alert.metadata.uid as string,
          generation: alert.metadata.generation as number,
        },
        alert: compileAlert({
          namespace: ns,
          name: "ops",
          spec: { providerRef: { name: "hook" }, eventSources: [{ kind: "GitRepository", name: "app-*" }] },
        }),
        provider: { key: `${ns}/hook`, notifier, secrets: [] },
      });
      return {
        pipeline,
        async stop() {
          await queues.drain();
          await pipeline.flush();
          await notifier.close();
        },
      };
    };
    const sent = () =>
      hook.requests.map((r) => {
        const e = JSON.parse(r.body) as {
          involvedObject: { name: string };
          reason: string;
          metadata?: { revision?: string };
        };
        return `${e.involvedObject.name}:${e.reason}:${e.metadata?.revision ?? ""}`;
      });
    try {
      await repo(ns, "app-a", rev(1), ok);
      await refresh();
      const first = await run();
      first.pipeline.observe(await repo(ns, "app-a", rev(2), ok));
      await first.stop();
      expect(sent()).toEqual([`app-a:NewArtifact:${rev(2)}`]);

      // While down: a moves on and fails, b appears.
      await repo(ns, "app-a", rev(3), { status: "False", reason: "BuildFailed", message: "kustomize build failed" });
      await repo(ns, "app-b", rev(9), ok);
      await refresh();
      const second = await run();
      // An update the new process also sees through its watch must not notify again.
      for (const obj of snapshot) second.pipeline.observe(obj);
      await second.stop();
      expect(sent()).toEqual([
        `app-a:NewArtifact:${rev(2)}`,
        `app-a:NewArtifact:${rev(3)}`,
        `app-a:BuildFailed:${rev(3)}`,
        `app-b:NewArtifact:${rev(9)}`,
      ]);

      const cm = await cp.client.get<KubeObject & { data?: Record<string, string> }>({
        apiVersion: "v1",
        kind: "ConfigMap",
        namespace: ns,
        name: watermarkConfigMapName("ops"),
      });
      expect(Object.keys(cm?.data ?? {}).sort()).toEqual([`GitRepository.${ns}.app-a`, `GitRepository.${ns}.app-b`]);
      expect(cm?.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Alert", name: "ops", uid: alert.metadata.uid });

      const third = await run();
      await third.stop();
      expect(hook.requests).toHaveLength(4);
    } finally {
      await hook.close();
    }
  });
});
