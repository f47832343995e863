// New Provider types end to end: the notification-controller process against the real control plane, Providers and
// Secrets as a user writes them, a GitRepository failing, and loopback servers standing in for Opsgenie and PagerDuty.
import { ensureCrds } from "@capstan/api/testing";
import {
  createTestNamespace,
  eventually,
  loadKubeConfig,
  type TestNamespace,
  testKubeconfigPath,
} from "@capstan/cluster/testing";
import { KubeClient } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from "vitest";
import { watermarkConfigMapName } from "../alerts/watermark-store.js";
import { createAlert, createProvider, createSecret, rev, setRepo } from "../testing/cluster.js";
import { type ControllerProcess, startControllerProcess } from "../testing/process.js";
import { type RecorderServer, startRecorder } from "../testing/recorder.js";

let kubeconfig: string;
let client: KubeClient;

beforeAll(async () => {
  kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
  await ensureCrds(kubeconfig);
  client = new KubeClient({ kubeconfigPath: kubeconfig });
});
afterAll(() => client?.close());

const T = (s: number) => `2024-03-01T10:00:${String(s).padStart(2, "0")}Z`;

async function markExists(ns: string, alert: string): Promise<boolean> {
  const cm = await client.get({
    apiVersion: "v1",
    kind: "ConfigMap",
    namespace: ns,
    name: watermarkConfigMapName(alert),
  });
  return cm !== undefined;
}

describe("notification-controller process: incident providers", () => {
  it("Given opsgenie and pagerduty Providers / should open an alert and trigger an incident when a GitRepository fails", async () => {
    const ns: TestNamespace = await createTestNamespace(loadKubeConfig(kubeconfig), "notif-incident");
    const hook: RecorderServer = await startRecorder(() => ({ status: 202 }));
    let proc: ControllerProcess | undefined;
    onTestFinished(async () => {
      await proc?.kill();
      await hook.close();
      await ns.delete();
    });
    const apiKey = "og-api-key-5e1f9b";
    const routingKey = "R0UT1NG-KEY-0c9a7d3e";
    const revision = rev(1);
    await setRepo(client, ns.name, "podinfo", {
      revision,
      at: T(0),
      ready: { status: "True", reason: "Succeeded", message: `stored artifact for revision '${revision}'`, at: T(0) },
    });
    proc = await startControllerProcess({
      kubeconfig,
      namespace: ns.name,
      fromDist: process.env.CAPSTAN_NOTIFICATION_FROM_DIST === "1",
    });
    await proc.ready();
    await createSecret(client, ns.name, "opsgenie", { token: apiKey });
    await createProvider(client, ns.name, "opsgenie", {
      type: "opsgenie",
      address: `${hook.url}/v2/alerts`,
      secretRef: { name: "opsgenie" },
    });
    await createProvider(client, ns.name, "pagerduty", { type: "pagerduty", address: hook.url, channel: routingKey });
    for (const name of ["opsgenie", "pagerduty"]) {
      await createAlert(client, ns.name, name, {
        providerRef: { name },
        eventSeverity: "error",
        eventSources: [{ kind: "GitRepository", name: "*" }],
      });
    }
    await eventually(async () => (await markExists(ns.name, "opsgenie")) && (await markExists(ns.name, "pagerduty")), {
      what: "both Alerts' notification marks",
    });

    const message = "failed to checkout and determine revision: unable to clone: authentication required";
    const failed = await setRepo(client, ns.name, "podinfo", {
      revision,
      at: T(0),
      ready: { status: "False", reason: "GitOperationFailed", message, at: T(20) },
    });
    await eventually(() => hook.requests.length >= 2, { what: () => `2 requests (have ${hook.requests.length})` });

    const opsgenie = hook.requests.find((r) => r.path === "/v2/alerts");
    expect(opsgenie?.method).toBe("POST");
    expect(opsgenie?.headers.authorization).toBe(`GenieKey ${apiKey}`);
    expect(JSON.parse(opsgenie?.body ?? "")).toEqual({
      message: "GitRepository/podinfo",
      description: message,
      details: { revision, severity: "error" },
    });
    const pagerduty = hook.requests.find((r) => r.path === "/v2/enqueue");
    expect(JSON.parse(pagerduty?.body ?? "")).toEqual({
      routing_key: routingKey,
      event_action: "trigger",
      dedup_key: failed.metadata.uid,
      payload: {
        summary: "git operation failed: gitrepository/podinfo",
        source: "Flux source-controller",
        severity: "error",
        timestamp: T(20),
        component: "podinfo",
        group: "GitRepository",
        custom_details: { message, metadata: { revision } },
      },
    });
    // Neither key reaches the controller's log.
    expect(proc.output()).not.toContain(apiKey);
    expect(proc.output()).not.toContain(routingKey);
  });
});
