// The Receiver's Kubernetes backend against the real control plane: the webhook server finds the Receiver by its
// status.webhookPath, reads the token through the Secret informer's cache, and annotates the GitRepository.
import { type Receiver, receiverType } from "@capstan/api";
import { eventually } from "@capstan/cluster/testing";
import { createInformer, type KubeObject, type SecretObject, secretType } from "@capstan/runtime";
import { describe, expect, it } from "vitest";
import { createSecret, requestedAt, rev, setRepo } from "../testing/cluster.js";
import { testNamespace, useControlPlane } from "../testing/harness.js";
import { applyGithubReceiver, githubPush, githubSignature } from "../testing/webhook.js";
import { createKubeReceiverBackend } from "./kube-backend.js";
import { startReceiverServer } from "./server.js";
import { receiverStatus } from "./status.js";

const cp = useControlPlane();
const fm = { fieldManager: "notification-controller-test", force: true };
const T0 = "2024-03-01T10:00:00Z";
const ok = { status: "True" as const, reason: "Succeeded", message: "stored artifact", at: T0 };

describe("receiver against the control plane", () => {
  it("Given a GitHub push with a valid signature / should annotate the GitRepository with requestedAt", async () => {
    const ns = await testNamespace(cp, "notif-backend");
    const token = "gh-webhook-token";
    await createSecret(cp.client, ns, "webhook-token", { token });
    await setRepo(cp.client, ns, "podinfo", { revision: rev(1), at: T0, ready: ok });
    const created = await applyGithubReceiver(cp.client, ns, "github", { secret: "webhook-token" });
    const update = receiverStatus(created, { value: token });
    await cp.client.applyStatus(
      {
        apiVersion: receiverType.apiVersion,
        kind: "Receiver",
        metadata: { name: "github", namespace: ns },
        status: { webhookPath: update.webhookPath, conditions: [{ ...update.ready, lastTransitionTime: T0 }] },
      },
      fm,
    );
    const type = await cp.client.resourceFor(receiverType.apiVersion, "Receiver");
    const secrets = createInformer<SecretObject>(cp.client, secretType, { namespace: ns });
    await secrets.start();
    await eventually(() => secrets.cache.get(`${ns}/webhook-token`), { what: "the token Secret in the cache" });
    const backend = createKubeReceiverBackend({
      client: cp.client,
      listReceivers: async () => (await cp.client.list<Receiver & KubeObject>(type, { namespace: ns })).items,
      secrets: secrets.cache,
      now: () => new Date("2024-03-01T10:20:30.125Z"),
    });
    const server = await startReceiverServer({ host: "127.0.0.1", port: 0 }, { backend });
    try {
      const post = (signature: string) => githubPush(`http://${server.address()}${update.webhookPath}`, signature);
      expect(await post(githubSignature("wrong"))).toBe(400);
      expect(await requestedAt(cp.client, ns, "podinfo")).toBeUndefined();
      expect(await post(githubSignature(token))).toBe(200);
      expect(await requestedAt(cp.client, ns, "podinfo")).toBe("2024-03-01 10:20:30.125 +0000 UTC");
    } finally {
      await server.close();
      secrets.stop();
    }
  });
});
