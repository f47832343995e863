// New Provider types end to end: the notification-controller process against the real control plane, Providers and
// Secrets as a user writes them, a GitRepository failing, and loopback servers standing in for Opsgenie and PagerDuty.
import { eventually } from "@capstan/cluster/testing";
import { describe, expect, it } from "vitest";
import { createAlert, createProvider, createSecret, markExists, rev, setRepo } from "../testing/cluster.js";
import { processSetup, useControlPlane } from "../testing/harness.js";

const cp = useControlPlane();

const T = (s: number) => `2024-03-01T10:00:${String(s).padStart(2, "0")}Z`;

describe("notification-controller process: incident providers", () => {
  it("Given opsgenie and pagerduty Providers / should open an alert and trigger an incident when a GitRepository fails", async () => {
    const { ns, hook, start } = await processSetup(cp, "notif-incident", { respond: () => ({ status: 202 }) });
    const apiKey = "og-api-key-5e1f9b";
    const routingKey = "R0UT1NG-KEY-0c9a7d3e";
    const revision = rev(1);
    await setRepo(cp.client, ns, "podinfo", {
      revision,
      at: T(0),
      ready: { status: "True", reason: "Succeeded", message: `stored artifact for revision '${revision}'`, at: T(0) },
    });
    const proc = await start();
    await createSecret(cp.client, ns, "opsgenie", { token: apiKey });
    await createProvider(cp.client, ns, "opsgenie", {
      type: "opsgenie",
      address: `${hook.url}/v2/alerts`,
      secretRef: { name: "opsgenie" },
    });
    await createProvider(cp.client, ns, "pagerduty", { type: "pagerduty", address: hook.url, channel: routingKey });
    for (const name of ["opsgenie", "pagerduty"]) {
      await createAlert(cp.client, ns, name, {
        providerRef: { name },
        eventSeverity: "error",
        eventSources: [{ kind: "GitRepository", name: "*" }],
      });
    }
    await eventually(
      async () => (await markExists(cp.client, ns, "opsgenie")) && (await markExists(cp.client, ns, "pagerduty")),
      {
        what: "both Alerts' notification marks",
      },
    );

    const message = "failed to checkout and determine revision: unable to clone: authentication required";
    const failed = await setRepo(cp.client, ns, "podinfo", {
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
