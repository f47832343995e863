// --no-cross-namespace-refs in notification-controller, as a process against the real control plane: an Alert whose
// eventSources name another namespace is refused (Warning Event InvalidConfig) and a Receiver never annotates a
// resource of another namespace, while same-namespace references keep working. Alert providerRef and Provider
// secretRefs have no namespace field (LocalObjectReference): they cannot cross.
import { gitRepositoryType, receiverType } from "@capstan/api";
import { ensureCrds } from "@capstan/api/testing";
import { createTestNamespace, eventually, loadKubeConfig, testKubeconfigPath } from "@capstan/cluster/testing";
import { KubeClient, type KubeObject } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from "vitest";
import { webhookPath } from "./receiver/webhook-path.js";
import {
  createAlert,
  createProvider,
  createSecret,
  eventsFor,
  type KubeEvent,
  rev,
  setRepo,
} from "./testing/cluster.js";
import { startControllerProcess } from "./testing/process.js";

let kubeconfig: string;
let client: KubeClient;

beforeAll(async () => {
  kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
  await ensureCrds(kubeconfig);
  client = new KubeClient({ kubeconfigPath: kubeconfig });
});
afterAll(() => client?.close());

const at = "2024-03-01T10:00:00Z";
const ready = { status: "True" as const, reason: "Succeeded", message: "stored", at };

async function namespace(prefix: string): Promise<string> {
  const ns = await createTestNamespace(loadKubeConfig(kubeconfig), prefix);
  onTestFinished(() => ns.delete());
  return ns.name;
}

async function requestedAt(ns: string, name: string): Promise<string | undefined> {
  const repo = await client.get<KubeObject>({
    apiVersion: gitRepositoryType.apiVersion,
    kind: "GitRepository",
    namespace: ns,
    name,
  });
  return repo?.metadata.annotations?.["reconcile.fluxcd.io/requestedAt"];
}

/** A generic Receiver `name` in `ns` over `resources`; resolves once Ready, returns its URL path. */
async function receiver(
  ns: string,
  name: string,
  token: string,
  resources: Record<string, unknown>[],
): Promise<string> {
  await createSecret(client, ns, `${name}-token`, { token });
  await client.apply(
    {
      apiVersion: receiverType.apiVersion,
      kind: "Receiver",
      metadata: { name, namespace: ns },
      spec: { type: "generic", secretRef: { name: `${name}-token` }, resources },
    },
    { fieldManager: "capstan-test", force: true },
  );
  await eventually(
    async () => {
      const r = await client.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>({
        apiVersion: receiverType.apiVersion,
        kind: "Receiver",
        namespace: ns,
        name,
      });
      return r?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    },
    { what: `Receiver ${name} Ready` },
  );
  return webhookPath(token, name, ns);
}

describe("notification-controller --no-cross-namespace-refs", () => {
  it("Given the flag / should refuse an Alert on another namespace's sources and never annotate another namespace's resource", async () => {
    const ns = await namespace("notif-xns");
    const other = await namespace("notif-xns-b");
    const proc = await startControllerProcess({ kubeconfig, namespace: ns, args: ["--no-cross-namespace-refs=true"] });
    onTestFinished(() => proc.kill());
    await proc.ready();

    await createProvider(client, ns, "hook", { type: "generic", address: "http://127.0.0.1:9/" });
    await createAlert(client, ns, "peek", {
      providerRef: { name: "hook" },
      eventSources: [{ kind: "GitRepository", name: "*", namespace: other }],
    });
    const warning = await eventually(
      async () =>
        (await eventsFor(client, ns, "Alert", "peek")).find(
          (e: KubeEvent) => e.type === "Warning" && e.reason === "InvalidConfig",
        ),
      { what: "a Warning Event on Alert peek" },
    );
    expect(warning.message).toBe(`cross-namespace references are not allowed: eventSources GitRepository/${other}/*`);

    await setRepo(client, ns, "mine", { revision: rev(1), at, ready });
    await setRepo(client, other, "theirs", { revision: rev(1), at, ready });
    const path = await receiver(ns, "hook", "xns-receiver-token-1", [
      { kind: "GitRepository", name: "theirs", namespace: other },
      { kind: "GitRepository", name: "mine" },
    ]);
    const res = await fetch(`${proc.receiverUrl}${path}`, { method: "POST", body: "{}" });
    expect(res.status).toBe(500);
    expect(await requestedAt(ns, "mine")).toBeDefined();
    expect(await requestedAt(other, "theirs")).toBeUndefined();
  });

  it("Given no flag / should annotate a resource of another namespace as Flux does", async () => {
    const ns = await namespace("notif-open");
    const other = await namespace("notif-open-b");
    const proc = await startControllerProcess({ kubeconfig, namespace: ns });
    onTestFinished(() => proc.kill());
    await proc.ready();
    await setRepo(client, other, "theirs", { revision: rev(1), at, ready });
    const path = await receiver(ns, "open", "open-receiver-token-1", [
      { kind: "GitRepository", name: "theirs", namespace: other },
    ]);
    const res = await fetch(`${proc.receiverUrl}${path}`, { method: "POST", body: "{}" });
    expect(res.status).toBe(200);
    expect(await requestedAt(other, "theirs")).toBeDefined();
  });
});
