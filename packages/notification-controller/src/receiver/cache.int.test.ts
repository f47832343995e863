// The Receiver server inside the real controller wiring, against the real control plane, with a client that counts
// every API request: a flood of badly signed webhooks costs no API call (tokens and Receivers come from informer
// caches), a valid webhook sent during the flood is handled, and a rotated token is seen through the cache.
import { gitRepositoryType } from "@capstan/api";
import { createTestNamespace, eventually, loadKubeConfig, type TestNamespace } from "@capstan/cluster/testing";
import { Annotations, KubeClient, type RequestInfo } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSecret, requestedAt as repoRequestedAt, rev, setRepo } from "../testing/cluster.js";
import { type InProcessController, startInProcess, useControlPlane } from "../testing/harness.js";
import { applyGithubReceiver, githubPush, githubSignature, readyReceiver } from "../testing/webhook.js";
import { webhookPath } from "./webhook-path.js";

const cp = useControlPlane();
let ns: TestNamespace;
let running: InProcessController;
let receiverUrl: string;
const requests: RequestInfo[] = [];

const at = "2024-03-01T10:00:00Z";
const ready = { status: "True" as const, reason: "Succeeded", message: "stored artifact", at };

beforeAll(async () => {
  ns = await createTestNamespace(loadKubeConfig(cp.kubeconfig), "notif-flood");
  // The controller's own client, with the runtime's request hook: every API request it makes is recorded.
  const counting = new KubeClient({ kubeconfigPath: cp.kubeconfig, onRequest: (r) => requests.push(r) });
  running = await startInProcess(cp, { namespace: ns.name, client: counting });
  receiverUrl = running.receiverUrl;
});
afterAll(async () => {
  await running?.stop();
  await ns?.delete();
});

const readyPath = async (name: string, not?: string) =>
  (await readyReceiver(cp.client, ns.name, name, not)).status.webhookPath;
const requestedAt = (name: string) => repoRequestedAt(cp.client, ns.name, name);

async function clearRequestedAt(name: string): Promise<void> {
  await cp.client.mergePatch(
    { apiVersion: gitRepositoryType.apiVersion, kind: "GitRepository", namespace: ns.name, name },
    { metadata: { annotations: { [Annotations.ReconcileRequest]: null } } },
  );
}

const sign = githubSignature;
const push = (path: string, signature: string) => githubPush(`${receiverUrl}${path}`, signature);

describe("Receiver server served from the informer caches", () => {
  it("Given 200 badly signed webhooks at once / should answer each 400 without an API request, and still handle a valid one sent meanwhile", async () => {
    const token = "flood-token-1";
    await createSecret(cp.client, ns.name, "flood-token", { token });
    await setRepo(cp.client, ns.name, "podinfo", { revision: rev(1), at, ready });
    await applyGithubReceiver(cp.client, ns.name, "github", { secret: "flood-token" });
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
    await createSecret(cp.client, ns.name, "flood-token", { token: "flood-token-2" });
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
