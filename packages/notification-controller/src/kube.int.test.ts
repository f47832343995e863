// Against the real control plane: the Receiver annotating a GitRepository, and notifications across a restart with the
// high-water mark kept in a real ConfigMap.
import { createHmac } from "node:crypto";
import { alertType, gitRepositoryType, type Receiver, receiverType } from "@capstan/api";
import { ensureCrds } from "@capstan/api/testing";
import {
  createTestNamespace,
  eventually,
  loadKubeConfig,
  type TestNamespace,
  testKubeconfigPath,
} from "@capstan/cluster/testing";
import { createInformer, KubeClient, type KubeObject } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { compileAlert } from "./alerts/matching.js";
import { EventPipeline } from "./alerts/pipeline.js";
import { EventRateLimiter } from "./alerts/ratelimit.js";
import { ConfigMapWatermarkStore, watermarkConfigMapName } from "./alerts/watermark-store.js";
import { DeliveryQueues } from "./delivery/queues.js";
import type { WatchedObject } from "./events/watched.js";
import { type SecretObject, secretType } from "./kube/types.js";
import { createNotifier } from "./providers/notifier.js";
import { createKubeReceiverBackend } from "./receiver/kube-backend.js";
import { startReceiverServer } from "./receiver/server.js";
import { receiverStatus } from "./receiver/status.js";
import { startRecorder } from "./testing/recorder.js";

const fm = { fieldManager: "notification-controller-test", force: true };
let client: KubeClient;
let ns: TestNamespace;

beforeAll(async () => {
  const path = testKubeconfigPath(inject("capstanKubeconfig"));
  await ensureCrds(path);
  client = new KubeClient({ kubeconfigPath: path });
  ns = await createTestNamespace(loadKubeConfig(path), "notif");
});
afterAll(async () => {
  await ns?.delete();
});

const T0 = new Date("2024-03-01T10:00:00Z").toISOString().replace(".000", "");

async function gitRepo(name: string, revision: string, ready: { status: string; reason: string; message: string }) {
  await client.apply(
    {
      apiVersion: gitRepositoryType.apiVersion,
      kind: "GitRepository",
      metadata: { name, namespace: ns.name },
      spec: { url: "https://example.com/repo.git", interval: "1m" },
    },
    fm,
  );
  return client.applyStatus<WatchedObject & KubeObject>(
    {
      apiVersion: gitRepositoryType.apiVersion,
      kind: "GitRepository",
      metadata: { name, namespace: ns.name },
      status: {
        artifact: {
          path: `x/${name}.tar.gz`,
          url: "http://a/x.tar.gz",
          revision,
          digest: `sha256:${"0".repeat(64)}`,
          lastUpdateTime: T0,
        },
        conditions: [{ type: "Ready", lastTransitionTime: T0, ...ready }],
      },
    },
    fm,
  );
}

const rev = (n: number) => `main@sha1:${n.toString(16).padStart(40, "0")}`;
const ok = { status: "True", reason: "Succeeded", message: "stored artifact" };

describe("receiver against the control plane", () => {
  it("Given a GitHub push with a valid signature / should annotate the GitRepository with requestedAt", async () => {
    const token = "gh-webhook-token";
    await client.create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "webhook-token", namespace: ns.name },
      data: { token: Buffer.from(token).toString("base64") },
    });
    await gitRepo("podinfo", rev(1), ok);
    const created = await client.apply<Receiver & KubeObject>(
      {
        apiVersion: receiverType.apiVersion,
        kind: "Receiver",
        metadata: { name: "github", namespace: ns.name },
        spec: {
          type: "github",
          events: ["push"],
          secretRef: { name: "webhook-token" },
          resources: [{ kind: "GitRepository", name: "podinfo" }],
        },
      },
      fm,
    );
    const update = receiverStatus(created, { value: token });
    await client.applyStatus(
      {
        apiVersion: receiverType.apiVersion,
        kind: "Receiver",
        metadata: { name: "github", namespace: ns.name },
        status: { webhookPath: update.webhookPath, conditions: [{ ...update.ready, lastTransitionTime: T0 }] },
      },
      fm,
    );
    const type = await client.resourceFor(receiverType.apiVersion, "Receiver");
    const secrets = createInformer<SecretObject>(client, secretType, { namespace: ns.name });
    await secrets.start();
    await eventually(() => secrets.cache.get(`${ns.name}/webhook-token`), { what: "the token Secret in the cache" });
    const backend = createKubeReceiverBackend({
      client,
      listReceivers: async () => (await client.list<Receiver & KubeObject>(type, { namespace: ns.name })).items,
      secrets: secrets.cache,
      now: () => new Date("2024-03-01T10:20:30.125Z"),
    });
    const server = await startReceiverServer({ host: "127.0.0.1", port: 0 }, { backend });
    try {
      const body = JSON.stringify({ ref: "refs/heads/main", after: "59b20b8d5c6ff8d09518454d4dd8b7a30f095ab5" });
      const post = (signature: string) =>
        fetch(`http://${server.address()}${update.webhookPath}`, {
          method: "POST",
          body,
          headers: { "content-type": "application/json", "x-github-event": "push", "x-hub-signature-256": signature },
        }).then((r) => r.status);
      expect(await post(`sha256=${createHmac("sha256", "wrong").update(body).digest("hex")}`)).toBe(400);
      const untouched = await client.get({
        apiVersion: gitRepositoryType.apiVersion,
        kind: "GitRepository",
        namespace: ns.name,
        name: "podinfo",
      });
      expect(untouched?.metadata.annotations?.["reconcile.fluxcd.io/requestedAt"]).toBeUndefined();
      expect(await post(`sha256=${createHmac("sha256", token).update(body).digest("hex")}`)).toBe(200);
      const repo = await client.get({
        apiVersion: gitRepositoryType.apiVersion,
        kind: "GitRepository",
        namespace: ns.name,
        name: "podinfo",
      });
      expect(repo?.metadata.annotations?.["reconcile.fluxcd.io/requestedAt"]).toBe("2024-03-01 10:20:30.125 +0000 UTC");
    } finally {
      await server.close();
      secrets.stop();
    }
  });
});

describe("notifications across a restart, marked in a ConfigMap", () => {
  it("Given transitions before, during and after a restart / should notify each once, none lost, none repeated", async () => {
    const hook = await startRecorder();
    const alert = await client.apply<KubeObject>(
      {
        apiVersion: alertType.apiVersion,
        kind: "Alert",
        metadata: { name: "ops", namespace: ns.name },
        spec: { providerRef: { name: "hook" }, eventSources: [{ kind: "GitRepository", name: "app-*" }] },
      },
      fm,
    );
    const repoType = await client.resourceFor(gitRepositoryType.apiVersion, "GitRepository");
    let snapshot: WatchedObject[] = [];
    const refresh = async () => {
      snapshot = (await client.list<WatchedObject & KubeObject>(repoType, { namespace: ns.name })).items;
    };
    const run = async () => {
      const queues = new DeliveryQueues({
        policy: { maxAttempts: 2, baseDelayMs: 20, maxDelayMs: 50, maxRetryAfterMs: 50 },
      });
      const notifier = createNotifier({ type: "generic", uid: "p", address: hook.url, timeoutMs: 2_000 });
      const pipeline = new EventPipeline({
        store: new ConfigMapWatermarkStore(client),
        queues,
        limiter: new EventRateLimiter(5 * 60_000),
        listObjects: () => snapshot,
        flushDelayMs: 10,
      });
      await pipeline.setAlert({
        identity: {
          apiVersion: alertType.apiVersion,
          namespace: ns.name,
          name: "ops",
          uid: alert.metadata.uid as string,
          generation: alert.metadata.generation as number,
        },
        alert: compileAlert({
          namespace: ns.name,
          name: "ops",
          spec: { providerRef: { name: "hook" }, eventSources: [{ kind: "GitRepository", name: "app-*" }] },
        }),
        provider: { key: `${ns.name}/hook`, notifier, secrets: [] },
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
      await gitRepo("app-a", rev(1), ok);
      await refresh();
      const first = await run();
      first.pipeline.observe(await gitRepo("app-a", rev(2), ok));
      await first.stop();
      expect(sent()).toEqual([`app-a:NewArtifact:${rev(2)}`]);

      // While down: a moves on and fails, b appears.
      await gitRepo("app-a", rev(3), { status: "False", reason: "BuildFailed", message: "kustomize build failed" });
      await gitRepo("app-b", rev(9), ok);
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

      const cm = await client.get<KubeObject & { data?: Record<string, string> }>({
        apiVersion: "v1",
        kind: "ConfigMap",
        namespace: ns.name,
        name: watermarkConfigMapName("ops"),
      });
      expect(Object.keys(cm?.data ?? {}).sort()).toEqual([
        `GitRepository.${ns.name}.app-a`,
        `GitRepository.${ns.name}.app-b`,
      ]);
      expect(cm?.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Alert", name: "ops", uid: alert.metadata.uid });

      const third = await run();
      await third.stop();
      expect(hook.requests).toHaveLength(4);
    } finally {
      await hook.close();
    }
  });
});
