// The Receiver server inside the real controller wiring, against the real control plane, with a client that counts
// every API request: a flood of badly signed webhooks costs no API call (tokens and Receivers come from informer
// caches), a valid webhook sent during the flood is handled, and a rotated token is seen through the cache.
import { createHmac } from "node:crypto";
import { gitRepositoryType, receiverType, reconcileRequestAnnotation } from "@capstan/api";
import { ensureCrds } from "@capstan/api/testing";
import { freePort } from "@capstan/cluster/process";
import {
  createTestNamespace,
  eventually,
  loadKubeConfig,
  type TestNamespace,
  testKubeconfigPath,
} from "@capstan/cluster/testing";
import { KubeClient, type KubeObject, type RequestInfo } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type NotificationController, startNotificationController } from "../controller.js";
import { parseNotificationFlags } from "../flags.js";
import { createSecret, rev, setRepo } from "../testing/cluster.js";
import { webhookPath } from "./webhook-path.js";

let kubeconfig: string;
let ns: TestNamespace;
let client: KubeClient;
let controller: NotificationController;
let receiverUrl: string;
const requests: RequestInfo[] = [];

const at = "2024-03-01T10:00:00Z";
const ready = { status: "True" as const, reason: "Succeeded", message: "stored artifact", at };

beforeAll(async () => {
  kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
  await ensureCrds(kubeconfig);
  ns = await createTestNamespace(loadKubeConfig(kubeconfig), "notif-flood");
  const port = await freePort();
  receiverUrl = `http://127.0.0.1:${port}`;
  const parsed = parseNotificationFlags("notification-controller", [
    `--kubeconfig=${kubeconfig}`,
    "--health-addr=127.0.0.1:0",
    "--metrics-addr=127.0.0.1:0",
    `--receiver-addr=127.0.0.1:${port}`,
    "--watch-all-namespaces=false",
    "--leader-elect=false",
    "--log-level=error",
  ]);
  if (parsed.help) throw new Error("unexpected --help");
  const flags = parsed.values;
  // The controller's own client, with the runtime's request hook: every API request it makes is recorded.
  const counting = new KubeClient({ kubeconfigPath: kubeconfig, onRequest: (r) => requests.push(r) });
  controller = startNotificationController({
    flags,
    env: { RUNTIME_NAMESPACE: ns.name },
    client: counting,
    handleSignals: false,
    drainTimeoutMs: 1_000,
  });
  client = new KubeClient({ kubeconfigPath: kubeconfig });
});
afterAll(async () => {
  await controller?.stop();
  await controller?.done.catch(() => undefined);
  client?.close();
  await ns?.delete();
});

interface ReceiverObj extends KubeObject {
  status?: { webhookPath?: string; conditions?: { type: string; status: string }[] };
}

async function readyPath(name: string, not?: string): Promise<string> {
  return eventually(
    async () => {
      const r = await client.get<ReceiverObj>({
        apiVersion: receiverType.apiVersion,
        kind: "Receiver",
        namespace: ns.name,
        name,
      });
      const path = r?.status?.webhookPath;
      const isReady = r?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
      return isReady && path && path !== not ? path : undefined;
    },
    { what: `Receiver ${name} Ready with a webhook path${not ? " other than the old one" : ""}` },
  );
}

async function requestedAt(name: string): Promise<string | undefined> {
  const repo = await client.get({
    apiVersion: gitRepositoryType.apiVersion,
    kind: "GitRepository",
    namespace: ns.name,
    name,
  });
  return repo?.metadata.annotations?.[reconcileRequestAnnotation];
}

async function clearRequestedAt(name: string): Promise<void> {
  await client.mergePatch(
    { apiVersion: gitRepositoryType.apiVersion, kind: "GitRepository", namespace: ns.name, name },
    { metadata: { annotations: { [reconcileRequestAnnotation]: null } } },
  );
}

const body = JSON.stringify({ ref: "refs/heads/main", after: "59b20b8d5c6ff8d09518454d4dd8b7a30f095ab5" });
const sign = (key: string) => `sha256=${createHmac("sha256", key).update(body).digest("hex")}`;
const push = (path: string, signature: string) =>
  fetch(`${receiverUrl}${path}`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", "x-github-event": "push", "x-hub-signature-256": signature },
  }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });

describe("Receiver server served from the informer caches", () => {
  it("Given 200 badly signed webhooks at once / should answer each 400 without an API request, and still handle a valid one sent meanwhile", async () => {
    const token = "flood-token-1";
    await createSecret(client, ns.name, "flood-token", { token });
    await setRepo(client, ns.name, "podinfo", { revision: rev(1), at, ready });
    await client.apply(
      {
        apiVersion: receiverType.apiVersion,
        kind: "Receiver",
        metadata: { name: "github", namespace: ns.name },
        spec: {
          type: "github",
          events: ["push"],
          secretRef: { name: "flood-token" },
          resources: [{ kind: "GitRepository", name: "podinfo" }],
        },
      },
      { fieldManager: "capstan-test", force: true },
    );
    const path = await readyPath("github");
    expect(path).toBe(webhookPath(token, "github", ns.name));

    const start = requests.length;
    const bad = Array.from({ length: 200 }, (_, i) => push(path, sign(`wrong-${i}`)));
    const good = push(path, sign(token));
    const more = Array.from({ length: 100 }, (_, i) => push(path, sign(`wrong-late-${i}`)));
    const statuses = await Promise.all([...bad, ...more]);
    expect(await good).toBe(200);
    expect(statuses.filter((s) => s !== 400)).toEqual([]);
    expect(await requestedAt("podinfo")).toMatch(/ \+0000 UTC$/);

    const during = requests.slice(start);
    // The valid webhook's one annotation patch; not one Secret or Receiver read for the 300 bad ones.
    expect(during.filter((r) => r.resource === "secrets" && r.verb !== "watch")).toEqual([]);
    expect(during.filter((r) => r.resource === "receivers" && r.verb !== "watch")).toEqual([]);
    expect(during.filter((r) => r.resource === "gitrepositories" && r.verb === "patch")).toHaveLength(1);
    // Nor at any time since the controller started: tokens are only ever read from the cache.
    expect(requests.filter((r) => r.resource === "secrets" && r.verb === "get")).toEqual([]);
  });

  it("Given a rotated token Secret / should accept the new token and refuse the old one", async () => {
    const oldPath = await readyPath("github");
    await clearRequestedAt("podinfo");
    await createSecret(client, ns.name, "flood-token", { token: "flood-token-2" });
    const newPath = await readyPath("github", oldPath);
    expect(newPath).toBe(webhookPath("flood-token-2", "github", ns.name));

    // The old path is gone once the controller's Receiver cache has the new status (400 until then: new token).
    await eventually(async () => (await push(oldPath, sign("flood-token-1"))) === 404, { what: "old path 404" });
    expect(await push(newPath, sign("flood-token-1"))).toBe(400);
    expect(await requestedAt("podinfo")).toBeUndefined();
    expect(await push(newPath, sign("flood-token-2"))).toBe(200);
    expect(await requestedAt("podinfo")).toMatch(/ \+0000 UTC$/);
    expect(requests.filter((r) => r.resource === "secrets" && r.verb === "get")).toEqual([]);
  });
});
