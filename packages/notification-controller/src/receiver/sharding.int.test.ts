// --watch-label-selector (sharding) shards the Alerts, Providers and Receivers a notification-controller serves, not
// the Secrets they name nor the objects Alerts watch, as in Flux: the controller wiring against the real control plane
// with a shard selector, where the Receiver and the Alert carry the shard label and nothing else does.
import { alertType, providerType, receiverType } from "@capstan/api";
import { createTestNamespace, eventually, loadKubeConfig, type TestNamespace } from "@capstan/cluster/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSecret, markExists, requestedAt, rev, setRepo } from "../testing/cluster.js";
import { type InProcessController, startInProcess, useControlPlane } from "../testing/harness.js";
import { type RecorderServer, startRecorder } from "../testing/recorder.js";
import {
  applyGithubReceiver,
  githubPush,
  githubSignature,
  type ReceiverWithStatus,
  readyReceiver,
} from "../testing/webhook.js";
import { webhookPath } from "./webhook-path.js";

const shard = { "sharding.fluxcd.io/key": "shard1" };
const fm = { fieldManager: "capstan-test", force: true };
const at = "2024-03-01T10:00:00Z";
const ready = { status: "True" as const, reason: "Succeeded", message: "stored artifact", at };

const cp = useControlPlane();
let ns: TestNamespace;
let running: InProcessController;
let receiverUrl: string;
let hook: RecorderServer;

beforeAll(async () => {
  ns = await createTestNamespace(loadKubeConfig(cp.kubeconfig), "notif-shard");
  hook = await startRecorder();
  running = await startInProcess(cp, {
    namespace: ns.name,
    args: ["--watch-label-selector=sharding.fluxcd.io/key=shard1"],
  });
  receiverUrl = running.receiverUrl;
});
afterAll(async () => {
  await running?.stop();
  await hook?.close();
  await ns?.delete();
});

const applyReceiver = (name: string, labels: Record<string, string>, secret: string) =>
  applyGithubReceiver(cp.client, ns.name, name, { secret, labels });

const getReceiver = (name: string) =>
  cp.client.get<ReceiverWithStatus>({
    apiVersion: receiverType.apiVersion,
    kind: "Receiver",
    namespace: ns.name,
    name,
  });
const push = (path: string, key: string) => githubPush(`${receiverUrl}${path}`, githubSignature(key));

describe("notification-controller with --watch-label-selector", () => {
  it("Given a labelled Receiver whose token Secret has no shard label / should accept its webhook and annotate the GitRepository", async () => {
    const token = "shard-token-1";
    await createSecret(cp.client, ns.name, "unlabelled-token", { token });
    await setRepo(cp.client, ns.name, "podinfo", { revision: rev(1), at, ready });
    await applyReceiver("in-shard", shard, "unlabelled-token");
    // Another shard's Receiver: not this controller's, so it gets neither status nor a path.
    await applyReceiver("other-shard", { "sharding.fluxcd.io/key": "shard2" }, "unlabelled-token");

    // Ready only once its unlabelled token Secret is found.
    const path = (await readyReceiver(cp.client, ns.name, "in-shard")).status.webhookPath;
    expect(path).toBe(webhookPath(token, "in-shard", ns.name));
    expect(await push(path, token)).toBe(200);
    expect(await requestedAt(cp.client, ns.name, "podinfo")).toMatch(/ \+0000 UTC$/);

    expect((await getReceiver("other-shard"))?.status?.webhookPath).toBeUndefined();
    expect(await push(webhookPath(token, "other-shard", ns.name), token)).toBe(404);
  });

  it("Given a labelled Alert whose Provider address is in an unlabelled Secret, watching an unlabelled GitRepository / should notify its new revision", async () => {
    await createSecret(cp.client, ns.name, "unlabelled-address", { address: hook.url });
    await setRepo(cp.client, ns.name, "app", { revision: rev(1), at, ready });
    await cp.client.apply(
      {
        apiVersion: providerType.apiVersion,
        kind: "Provider",
        metadata: { name: "hook", namespace: ns.name, labels: shard },
        spec: { type: "generic", secretRef: { name: "unlabelled-address" } },
      },
      fm,
    );
    await cp.client.apply(
      {
        apiVersion: alertType.apiVersion,
        kind: "Alert",
        metadata: { name: "app", namespace: ns.name, labels: shard },
        spec: { providerRef: { name: "hook" }, eventSources: [{ kind: "GitRepository", name: "app" }] },
      },
      fm,
    );
    // The Alert's mark is written once it is bound and has its baseline; a new revision is then news.
    await eventually(() => markExists(cp.client, ns.name, "app"), { what: "the Alert bound (its mark written)" });
    await setRepo(cp.client, ns.name, "app", { revision: rev(2), at: "2024-03-01T10:00:05Z", ready });
    await eventually(() => hook.requests.length >= 1, { what: "the notification for the new revision" });
    const sent = JSON.parse(hook.requests[0]?.body ?? "{}") as { reason?: string; metadata?: Record<string, string> };
    expect(sent.reason).toBe("NewArtifact");
    expect(sent.metadata?.revision).toBe(rev(2));
  });
});
