// --watch-label-selector (sharding) shards the Alerts, Providers and Receivers a notification-controller serves, not
// the Secrets they name nor the objects Alerts watch, as in Flux: the controller wiring against the real control plane
// with a shard selector, where the Receiver and the Alert carry the shard label and nothing else does.
import { createHmac } from "node:crypto";
import { alertType, gitRepositoryType, providerType, receiverType, reconcileRequestAnnotation } from "@capstan/api";
import { ensureCrds } from "@capstan/api/testing";
import { freePort } from "@capstan/cluster/process";
import {
  createTestNamespace,
  eventually,
  loadKubeConfig,
  type TestNamespace,
  testKubeconfigPath,
} from "@capstan/cluster/testing";
import { KubeClient, type KubeObject } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { watermarkConfigMapName } from "../alerts/watermark-store.js";
import { type NotificationController, startNotificationController } from "../controller.js";
import { parseNotificationFlags } from "../flags.js";
import { createSecret, rev, setRepo } from "../testing/cluster.js";
import { type RecorderServer, startRecorder } from "../testing/recorder.js";
import { webhookPath } from "./webhook-path.js";

const shard = { "sharding.fluxcd.io/key": "shard1" };
const fm = { fieldManager: "capstan-test", force: true };
const at = "2024-03-01T10:00:00Z";
const ready = { status: "True" as const, reason: "Succeeded", message: "stored artifact", at };

let kubeconfig: string;
let ns: TestNamespace;
let client: KubeClient;
let controller: NotificationController;
let receiverUrl: string;
let hook: RecorderServer;

beforeAll(async () => {
  kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
  await ensureCrds(kubeconfig);
  ns = await createTestNamespace(loadKubeConfig(kubeconfig), "notif-shard");
  hook = await startRecorder();
  const port = await freePort();
  receiverUrl = `http://127.0.0.1:${port}`;
  const parsed = parseNotificationFlags("notification-controller", [
    `--kubeconfig=${kubeconfig}`,
    "--health-addr=127.0.0.1:0",
    "--metrics-addr=127.0.0.1:0",
    `--receiver-addr=127.0.0.1:${port}`,
    "--watch-all-namespaces=false",
    "--watch-label-selector=sharding.fluxcd.io/key=shard1",
    "--leader-elect=false",
    "--log-level=error",
  ]);
  if (parsed.help) throw new Error("unexpected --help");
  client = new KubeClient({ kubeconfigPath: kubeconfig });
  controller = startNotificationController({
    flags: parsed.values,
    env: { RUNTIME_NAMESPACE: ns.name },
    client: new KubeClient({ kubeconfigPath: kubeconfig }),
    handleSignals: false,
    drainTimeoutMs: 1_000,
  });
});
afterAll(async () => {
  await controller?.stop();
  await controller?.done.catch(() => undefined);
  await hook?.close();
  client?.close();
  await ns?.delete();
});

interface ReceiverObj extends KubeObject {
  status?: { webhookPath?: string; conditions?: { type: string; status: string; reason?: string }[] };
}

async function applyReceiver(name: string, labels: Record<string, string>, secret: string) {
  await client.apply(
    {
      apiVersion: receiverType.apiVersion,
      kind: "Receiver",
      metadata: { name, namespace: ns.name, labels },
      spec: {
        type: "github",
        events: ["push"],
        secretRef: { name: secret },
        resources: [{ kind: "GitRepository", name: "podinfo" }],
      },
    },
    fm,
  );
}

const getReceiver = (name: string) =>
  client.get<ReceiverObj>({ apiVersion: receiverType.apiVersion, kind: "Receiver", namespace: ns.name, name });

const body = JSON.stringify({ ref: "refs/heads/main", after: "59b20b8d5c6ff8d09518454d4dd8b7a30f095ab5" });
const push = (path: string, key: string) =>
  fetch(`${receiverUrl}${path}`, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-hub-signature-256": `sha256=${createHmac("sha256", key).update(body).digest("hex")}`,
    },
  }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });

describe("notification-controller with --watch-label-selector", () => {
  it("Given a labelled Receiver whose token Secret has no shard label / should accept its webhook and annotate the GitRepository", async () => {
    const token = "shard-token-1";
    await createSecret(client, ns.name, "unlabelled-token", { token });
    await setRepo(client, ns.name, "podinfo", { revision: rev(1), at, ready });
    await applyReceiver("in-shard", shard, "unlabelled-token");
    // Another shard's Receiver: not this controller's, so it gets neither status nor a path.
    await applyReceiver("other-shard", { "sharding.fluxcd.io/key": "shard2" }, "unlabelled-token");

    const receiver = await eventually(
      async () => {
        const r = await getReceiver("in-shard");
        return r?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? r : undefined;
      },
      { what: "the labelled Receiver Ready (its unlabelled token Secret found)" },
    );
    const path = receiver.status?.webhookPath ?? "";
    expect(path).toBe(webhookPath(token, "in-shard", ns.name));
    expect(await push(path, token)).toBe(200);
    const repo = await client.get({
      apiVersion: gitRepositoryType.apiVersion,
      kind: "GitRepository",
      namespace: ns.name,
      name: "podinfo",
    });
    expect(repo?.metadata.annotations?.[reconcileRequestAnnotation]).toMatch(/ \+0000 UTC$/);

    expect((await getReceiver("other-shard"))?.status?.webhookPath).toBeUndefined();
    expect(await push(webhookPath(token, "other-shard", ns.name), token)).toBe(404);
  });

  it("Given a labelled Alert whose Provider address is in an unlabelled Secret, watching an unlabelled GitRepository / should notify its new revision", async () => {
    await createSecret(client, ns.name, "unlabelled-address", { address: hook.url });
    await setRepo(client, ns.name, "app", { revision: rev(1), at, ready });
    await client.apply(
      {
        apiVersion: providerType.apiVersion,
        kind: "Provider",
        metadata: { name: "hook", namespace: ns.name, labels: shard },
        spec: { type: "generic", secretRef: { name: "unlabelled-address" } },
      },
      fm,
    );
    await client.apply(
      {
        apiVersion: alertType.apiVersion,
        kind: "Alert",
        metadata: { name: "app", namespace: ns.name, labels: shard },
        spec: { providerRef: { name: "hook" }, eventSources: [{ kind: "GitRepository", name: "app" }] },
      },
      fm,
    );
    // The Alert's mark is written once it is bound and has its baseline; a new revision is then news.
    await eventually(
      async () =>
        (await client.get({
          apiVersion: "v1",
          kind: "ConfigMap",
          namespace: ns.name,
          name: watermarkConfigMapName("app"),
        })) !== undefined,
      { what: "the Alert bound (its mark written)" },
    );
    await setRepo(client, ns.name, "app", { revision: rev(2), at: "2024-03-01T10:00:05Z", ready });
    await eventually(() => hook.requests.length >= 1, { what: "the notification for the new revision" });
    const sent = JSON.parse(hook.requests[0]?.body ?? "{}") as { reason?: string; metadata?: Record<string, string> };
    expect(sent.reason).toBe("NewArtifact");
    expect(sent.metadata?.revision).toBe(rev(2));
  });
});
