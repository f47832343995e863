// --no-cross-namespace-refs in notification-controller, as a process against the real control plane: an Alert whose
// eventSources name another namespace is refused (Warning Event InvalidConfig) and a Receiver never annotates a
// resource of another namespace, while same-namespace references keep working. Alert providerRef and Provider
// secretRefs have no namespace field (LocalObjectReference): they cannot cross.
import { receiverType } from "@capstan/api";
import { eventually } from "@capstan/cluster/testing";
import { describe, expect, it } from "vitest";
import { webhookPath } from "./receiver/webhook-path.js";
import {
  createAlert,
  createProvider,
  createSecret,
  eventsFor,
  type KubeEvent,
  requestedAt,
  rev,
  setRepo,
} from "./testing/cluster.js";
import { processSetup, testNamespace, useControlPlane } from "./testing/harness.js";
import { readyReceiver } from "./testing/webhook.js";

const cp = useControlPlane();

const at = "2024-03-01T10:00:00Z";
const ready = { status: "True" as const, reason: "Succeeded", message: "stored", at };

/** A generic Receiver `name` in `ns` over `resources`; resolves once Ready, returns its URL path. */
async function receiver(
  ns: string,
  name: string,
  token: string,
  resources: Record<string, unknown>[],
): Promise<string> {
  await createSecret(cp.client, ns, `${name}-token`, { token });
  await cp.client.apply(
    {
      apiVersion: receiverType.apiVersion,
      kind: "Receiver",
      metadata: { name, namespace: ns },
      spec: { type: "generic", secretRef: { name: `${name}-token` }, resources },
    },
    { fieldManager: "capstan-test", force: true },
  );
  await readyReceiver(cp.client, ns, name);
  return webhookPath(token, name, ns);
}

describe("notification-controller --no-cross-namespace-refs", () => {
  it("Given the flag / should refuse an Alert on another namespace's sources and never annotate another namespace's resource", async () => {
    const { ns, start } = await processSetup(cp, "notif-xns", { args: ["--no-cross-namespace-refs=true"] });
    const other = await testNamespace(cp, "notif-xns-b");
    const proc = await start();

    await createProvider(cp.client, ns, "hook", { type: "generic", address: "http://127.0.0.1:9/" });
    await createAlert(cp.client, ns, "peek", {
      providerRef: { name: "hook" },
      eventSources: [{ kind: "GitRepository", name: "*", namespace: other }],
    });
    const warning = await eventually(
      async () =>
        (await eventsFor(cp.client, ns, "Alert", "peek")).find(
          (e: KubeEvent) => e.type === "Warning" && e.reason === "InvalidConfig",
        ),
      { what: "a Warning Event on Alert peek" },
    );
    expect(warning.message).toBe(`cross-namespace references are not allowed: eventSources GitRepository/${other}/*`);

    await setRepo(cp.client, ns, "mine", { revision: rev(1), at, ready });
    await setRepo(cp.client, other, "theirs", { revision: rev(1), at, ready });
    const path = await receiver(ns, "hook", "xns-receiver-token-1", [
      { kind: "GitRepository", name: "theirs", namespace: other },
      { kind: "GitRepository", name: "mine" },
    ]);
    const res = await fetch(`${proc.receiverUrl}${path}`, { method: "POST", body: "{}" });
    expect(res.status).toBe(500);
    expect(await requestedAt(cp.client, ns, "mine")).toBeDefined();
    expect(await requestedAt(cp.client, other, "theirs")).toBeUndefined();
  });

  it("Given no flag / should annotate a resource of another namespace as Flux does", async () => {
    const { ns, start } = await processSetup(cp, "notif-open");
    const other = await testNamespace(cp, "notif-open-b");
    const proc = await start();
    await setRepo(cp.client, other, "theirs", { revision: rev(1), at, ready });
    const path = await receiver(ns, "open", "open-receiver-token-1", [
      { kind: "GitRepository", name: "theirs", namespace: other },
    ]);
    const res = await fetch(`${proc.receiverUrl}${path}`, { method: "POST", body: "{}" });
    expect(res.status).toBe(200);
    expect(await requestedAt(cp.client, other, "theirs")).toBeDefined();
  });
});
