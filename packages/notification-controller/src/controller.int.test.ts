// The notification-controller as a process (the chart's arguments, from source or from dist with
// CAPSTAN_NOTIFICATION_FROM_DIST=1) against the real control plane, with loopback webhook servers.
import { createHmac } from "node:crypto";
import { gitRepositoryType, receiverType } from "@capstan/api";
import { eventually } from "@capstan/cluster/testing";
import type { KubeObject } from "@capstan/runtime";
import { describe, expect, it } from "vitest";
import { eventIdMetadataKey } from "./events/event.js";
import { webhookPath } from "./receiver/webhook-path.js";
import {
  createAlert,
  createProvider,
  createSecret,
  eventsFor,
  type KubeEvent,
  markExists,
  type RepoObject,
  requestedAt,
  rev,
  setRepo,
} from "./testing/cluster.js";
import { processSetup, useControlPlane } from "./testing/harness.js";
import type { RecorderServer } from "./testing/recorder.js";
import { applyGithubReceiver, githubPush, githubSignature, readyReceiver } from "./testing/webhook.js";

const cp = useControlPlane();
const setup = (prefix: string, args: string[] = []) => processSetup(cp, prefix, { args });

const T = (s: number) => `2024-03-01T10:00:${String(s).padStart(2, "0")}Z`;
const readyTrue = (revision: string, at: string) => ({
  status: "True" as const,
  reason: "Succeeded",
  message: `stored artifact for revision '${revision}'`,
  at,
});

/** Waits for `n` requests, then a quiet second, and returns the bodies parsed (duplicates would show up here). */
async function settledBodies(hook: RecorderServer, n: number): Promise<Record<string, unknown>[]> {
  await eventually(() => hook.requests.length >= n, { what: () => `${n} requests (have ${hook.requests.length})` });
  await new Promise((r) => setTimeout(r, 1_000));
  return hook.requests.map((r) => JSON.parse(r.body) as Record<string, unknown>);
}

/** Flux's event JSON, in Go's field order. */
function expectedBody(
  repo: RepoObject,
  e: { severity: string; timestamp: string; message: string; reason: string; metadata: Record<string, string> },
): string {
  return JSON.stringify({
    involvedObject: {
      kind: "GitRepository",
      namespace: repo.metadata.namespace,
      name: repo.metadata.name,
      uid: repo.metadata.uid,
      apiVersion: gitRepositoryType.apiVersion,
      resourceVersion: repo.metadata.resourceVersion,
    },
    severity: e.severity,
    timestamp: e.timestamp,
    message: e.message,
    reason: e.reason,
    metadata: e.metadata,
    reportingController: "source-controller",
  });
}

describe("notification-controller process: alerts", () => {
  it("Given an Alert and a generic-hmac Provider / should POST exactly Flux's events for a new revision, Ready False, then Ready True", async () => {
    const { ns, hook, start } = await setup("notif-payload");
    const token = "hmac-s3cr3t-token-9f1c";
    const headerSecret = "Bearer hdr-s3cr3t-7d2e";
    const pathSecret = "path-s3cr3t-41ab";
    await setRepo(cp.client, ns, "podinfo", { revision: rev(1), at: T(0), ready: readyTrue(rev(1), T(0)) });
    const proc = await start();
    await createSecret(cp.client, ns, "webhook", {
      address: `${hook.url}/hooks/${pathSecret}`,
      token,
      headers: `Authorization: ${headerSecret}\nX-Cluster: staging\n`,
    });
    await createProvider(cp.client, ns, "webhook", { type: "generic-hmac", secretRef: { name: "webhook" } });
    await createAlert(cp.client, ns, "podinfo", {
      providerRef: { name: "webhook" },
      eventSeverity: "info",
      eventSources: [{ kind: "GitRepository", name: "*" }],
      eventMetadata: { env: "staging" },
      summary: "podinfo in staging",
    });
    await eventually(() => markExists(cp.client, ns, "podinfo"), { what: "the Alert's notification mark" });
    const metadata = (revision: string) => ({ env: "staging", revision, summary: "podinfo in staging" });

    const r2 = await setRepo(cp.client, ns, "podinfo", { revision: rev(2), at: T(10), ready: readyTrue(rev(2), T(0)) });
    await settledBodies(hook, 1);
    const failure = {
      status: "False" as const,
      reason: "GitOperationFailed",
      message: "failed to checkout and determine revision: unable to clone: authentication required",
      at: T(20),
    };
    const r3 = await setRepo(cp.client, ns, "podinfo", { revision: rev(2), at: T(10), ready: failure });
    await settledBodies(hook, 2);
    const r4 = await setRepo(cp.client, ns, "podinfo", {
      revision: rev(2),
      at: T(10),
      ready: readyTrue(rev(2), T(30)),
    });
    await settledBodies(hook, 3);

    // Each body is Flux's event plus (Capstan) the notification id in metadata, which the headers repeat.
    const ids = hook.requests.map((r) => {
      const id = (JSON.parse(r.body) as { metadata: Record<string, string> }).metadata[eventIdMetadataKey];
      expect(r.headers["x-capstan-event-id"]).toBe(id);
      expect(r.headers["idempotency-key"]).toBe(`"${id}"`);
      return id;
    });
    expect(new Set(ids).size).toBe(3);
    const withoutId = (body: string) => {
      const parsed = JSON.parse(body) as { metadata: Record<string, string> };
      delete parsed.metadata[eventIdMetadataKey];
      return JSON.stringify(parsed);
    };
    expect(hook.requests.map((r) => withoutId(r.body))).toEqual([
      expectedBody(r2, {
        severity: "info",
        timestamp: T(10),
        message: `stored artifact for revision '${rev(2)}'`,
        reason: "NewArtifact",
        metadata: metadata(rev(2)),
      }),
      expectedBody(r3, {
        severity: "error",
        timestamp: T(20),
        message: failure.message,
        reason: "GitOperationFailed",
        metadata: metadata(rev(2)),
      }),
      expectedBody(r4, {
        severity: "info",
        timestamp: T(30),
        message: `stored artifact for revision '${rev(2)}'`,
        reason: "Succeeded",
        metadata: metadata(rev(2)),
      }),
    ]);
    for (const r of hook.requests) {
      expect(r.path).toBe(`/hooks/${pathSecret}`);
      expect(r.headers["gotk-component"]).toBe("source-controller");
      expect(r.headers.authorization).toBe(headerSecret);
      expect(r.headers["x-cluster"]).toBe("staging");
      expect(r.headers["x-signature"]).toBe(`sha256=${createHmac("sha256", token).update(r.body).digest("hex")}`);
    }
    expect((await fetch(`${proc.healthUrl}/readyz`)).status).toBe(200);
    const { metrics } = await proc.urls();
    const text = await (await fetch(`${metrics}/metrics`)).text();
    expect(text).toMatch(
      new RegExp(
        `capstan_notifications_total\\{namespace="${ns}",alert="[^"]+",provider="${ns}/[^"]+",outcome="delivered"\\} 3`,
      ),
    );
    const { code } = await proc.terminate();
    expect(code).toBe(0);
    for (const secret of [token, headerSecret, pathSecret]) expect(proc.output()).not.toContain(secret);
  });

  it("Given a controller restarted in the middle of a stream of revisions / should notify every revision exactly once, in order", async () => {
    const { ns, hook, start } = await setup("notif-restart");
    await createProvider(cp.client, ns, "webhook", { type: "generic", address: hook.url });
    await createAlert(cp.client, ns, "stream", {
      providerRef: { name: "webhook" },
      eventSources: [{ kind: "GitRepository", name: "app" }],
      inclusionList: ["^stored artifact"],
    });
    const set = (n: number) =>
      setRepo(cp.client, ns, "app", { revision: rev(n), at: T(n), ready: readyTrue(rev(n), T(0)) });
    await set(0);
    let proc = await start();
    await eventually(() => markExists(cp.client, ns, "stream"), { what: "the Alert's notification mark" });
    const delivered = () =>
      hook.requests.map((r) => (JSON.parse(r.body) as { metadata: { revision: string } }).metadata.revision);

    await set(1);
    await eventually(() => delivered().length === 1);
    await set(2);
    await eventually(() => delivered().length === 2);
    // Patched as the shutdown begins: delivered before the exit, or on the next start; once either way.
    await set(3);
    expect((await proc.terminate()).code).toBe(0);
    proc = await start();
    await proc.waitForLog((l) => l.msg === "alert bound");
    await set(4);
    await eventually(() => delivered().length === 4, { what: () => `4 revisions (have ${delivered().join(", ")})` });
    expect((await proc.terminate()).code).toBe(0);
    // Changed while no controller runs: found on start by comparing with the stored mark.
    await set(5);
    proc = await start();
    await proc.waitForLog((l) => l.msg === "alert bound");
    await set(6);
    await eventually(() => delivered().length >= 6, { what: () => `6 revisions (have ${delivered().join(", ")})` });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(delivered()).toEqual([1, 2, 3, 4, 5, 6].map(rev));
    // Three process starts and stops: 12 s on an idle machine, over a minute on a loaded one (CI beside builds).
  }, 180_000);

  it("Given an object flapping between failing and ready / should notify the first failure and the first recovery only", async () => {
    const { ns, hook, start } = await setup("notif-flap", ["--log-level=debug"]);
    await createProvider(cp.client, ns, "webhook", { type: "generic", address: hook.url });
    await createAlert(cp.client, ns, "flap", {
      providerRef: { name: "webhook" },
      eventSources: [{ kind: "GitRepository", name: "flappy" }],
    });
    await setRepo(cp.client, ns, "flappy", { revision: rev(1), at: T(0), ready: readyTrue(rev(1), T(0)) });
    const proc = await start();
    await eventually(() => markExists(cp.client, ns, "flap"), { what: "the Alert's notification mark" });
    const failing = { status: "False" as const, reason: "GitOperationFailed", message: "connection reset", at: T(1) };
    const collapsed = () => proc.logs.filter((l) => l.msg === "notification collapsed by the rate limit").length;
    for (let i = 0; i < 3; i++) {
      await setRepo(cp.client, ns, "flappy", { revision: rev(1), at: T(0), ready: { ...failing, at: T(10 * i + 1) } });
      await eventually(() => hook.requests.length + collapsed() === 2 * i + 1);
      await setRepo(cp.client, ns, "flappy", { revision: rev(1), at: T(0), ready: readyTrue(rev(1), T(10 * i + 5)) });
      await eventually(() => hook.requests.length + collapsed() === 2 * i + 2);
    }
    const bodies = await settledBodies(hook, 2);
    expect(bodies.map((b) => [b.severity, b.reason, b.timestamp])).toEqual([
      ["error", "GitOperationFailed", T(1)],
      ["info", "Succeeded", T(5)],
    ]);
    expect(collapsed()).toBe(4);
    const { metrics } = await proc.urls();
    const text = await (await fetch(`${metrics}/metrics`)).text();
    expect(text).toContain(`capstan_notifications_collapsed_total{namespace="${ns}",alert="flap"} 4`);
  });
});

describe("notification-controller process: receivers and invalid objects", () => {
  it("Given a github Receiver / should publish its webhook path and annotate the GitRepository after a signed push", async () => {
    const { ns, start } = await setup("notif-receiver");
    const token = "gh-receiver-s3cr3t-55e0";
    const proc = await start();
    await createSecret(cp.client, ns, "github-token", { token });
    await setRepo(cp.client, ns, "podinfo", { revision: rev(1), at: T(0), ready: readyTrue(rev(1), T(0)) });
    await applyGithubReceiver(cp.client, ns, "github", { secret: "github-token" });
    const path = webhookPath(token, "github", ns);
    const receiver = await readyReceiver(cp.client, ns, "github");
    expect(receiver.status.webhookPath).toBe(path);
    expect(receiver.status.observedGeneration).toBe(receiver.metadata.generation);
    expect(receiver.status.conditions?.find((c) => c.type === "Ready")).toMatchObject({
      reason: "Succeeded",
      message: `Receiver initialized for path: ${path}`,
    });
    expect(await githubPush(`${proc.receiverUrl}${path}`, githubSignature("not-the-token"))).toBe(400);
    const before = Date.now();
    expect(await githubPush(`${proc.receiverUrl}${path}`, githubSignature(token))).toBe(200);
    const annotated = (await requestedAt(cp.client, ns, "podinfo")) ?? "";
    expect(annotated).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC$/);
    expect(Date.parse(annotated.replace(" +0000 UTC", "Z").replace(" ", "T"))).toBeGreaterThanOrEqual(
      Math.floor(before / 1000) * 1000,
    );
    expect((await proc.terminate()).code).toBe(0);
    expect(proc.output()).not.toContain(token);
  });

  it("Given a Provider of a type Capstan cannot send to / should drop each notification visibly: a Warning Event, a log line and a metric count each", async () => {
    const { ns, start } = await setup("notif-unsupported");
    await setRepo(cp.client, ns, "podinfo", { revision: rev(1), at: T(0), ready: readyTrue(rev(1), T(0)) });
    const proc = await start();
    await createProvider(cp.client, ns, "pager", { type: "webex", address: "https://webexapis.example.com" });
    await createAlert(cp.client, ns, "on-call", {
      providerRef: { name: "pager" },
      eventSources: [{ kind: "GitRepository", name: "*" }],
    });
    await eventually(() => markExists(cp.client, ns, "on-call"), {
      what: "the Alert bound although its Provider cannot deliver",
    });
    const warnings = async (kind: string, name: string, reason: string) =>
      (await eventsFor(cp.client, ns, kind, name)).filter((e) => e.type === "Warning" && e.reason === reason);
    expect((await eventually(() => warnings("Provider", "pager", "InvalidConfig")))[0]?.message).toBe(
      "unsupported provider type 'webex'",
    );
    expect((await eventually(() => warnings("Alert", "on-call", "InvalidConfig")))[0]?.message).toBe(
      `Provider '${ns}/pager' cannot be used: unsupported provider type 'webex'; every notification of this Alert is dropped`,
    );

    await setRepo(cp.client, ns, "podinfo", { revision: rev(2), at: T(10), ready: readyTrue(rev(2), T(0)) });
    await setRepo(cp.client, ns, "podinfo", { revision: rev(3), at: T(20), ready: readyTrue(rev(3), T(0)) });
    const message = `failed to dispatch notification for GitRepository/${ns}/podinfo: Provider '${ns}/pager' has type 'webex', which Capstan cannot send to: notification dropped`;
    // One Event per dropped notification (the recorder aggregates repeats of the same message into its count).
    const dropped = await eventually(
      async () => {
        const events = await warnings("Alert", "on-call", "NotificationDispatchFailed");
        const total = events.reduce((n, e) => n + (e.count ?? 1), 0);
        return total >= 2 && events;
      },
      { what: "a NotificationDispatchFailed Event per dropped notification" },
    );
    expect(dropped.map((e) => e.message)).toEqual([message]);
    expect(dropped.reduce((n, e) => n + (e.count ?? 1), 0)).toBe(2);
    expect(proc.logs.filter((l) => l.msg === message && l.outcome === "dropped")).toHaveLength(2);
    const { metrics } = await proc.urls();
    const text = await (await fetch(`${metrics}/metrics`)).text();
    expect(text).toContain(
      `capstan_notifications_total{namespace="${ns}",alert="on-call",provider="${ns}/pager",outcome="dropped"} 2`,
    );
  });

  it("Given a Receiver with resources[].filter / should annotate only the GitRepositories it accepts; an invalid filter stalls", async () => {
    const { ns, start } = await setup("notif-filter");
    const token = "filter-receiver-s3cr3t-7c1a";
    const proc = await start();
    await createSecret(cp.client, ns, "token", { token });
    for (const name of ["podinfo", "other"]) {
      await cp.client.apply(
        {
          apiVersion: gitRepositoryType.apiVersion,
          kind: "GitRepository",
          metadata: { name, namespace: ns, labels: { app: "web" } },
          spec: { url: `https://git.example.com/${name}.git`, interval: "1m" },
        },
        { fieldManager: "capstan-test", force: true },
      );
    }
    const receiver = (name: string, filter: string) =>
      cp.client.apply(
        {
          apiVersion: receiverType.apiVersion,
          kind: "Receiver",
          metadata: { name, namespace: ns },
          spec: {
            type: "generic",
            secretRef: { name: "token" },
            resources: [{ kind: "GitRepository", name: "*", matchLabels: { app: "web" }, filter }],
          },
        },
        { fieldManager: "capstan-test", force: true },
      );
    await receiver("by-repository", "req.repository.name == res.metadata.name");
    await receiver("not-boolean", "res.metadata.name");
    const readyOf = async (name: string) => {
      const r = await cp.client.get<
        KubeObject & { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } }
      >({ apiVersion: receiverType.apiVersion, kind: "Receiver", namespace: ns, name });
      return r?.status?.conditions?.find((c) => c.type === "Ready");
    };
    await eventually(async () => (await readyOf("by-repository"))?.status === "True", { what: "Receiver Ready" });
    const stalled = await eventually(
      async () => {
        const ready = await readyOf("not-boolean");
        return ready?.status === "False" && ready;
      },
      { what: "the Receiver with a non-boolean filter Ready=False" },
    );
    expect(stalled).toMatchObject({
      reason: "InvalidCELExpression",
      message:
        'invalid filter expression for resources[0] (kind="GitRepository", name="*"): CEL expression output type mismatch: expected bool, got dyn',
    });

    const response = await fetch(`${proc.receiverUrl}${webhookPath(token, "by-repository", ns)}`, {
      method: "POST",
      body: JSON.stringify({ repository: { name: "podinfo" } }),
      headers: { "content-type": "application/json" },
    });
    expect(response.status).toBe(200);
    expect(await requestedAt(cp.client, ns, "podinfo")).toMatch(/ \+0000 UTC$/);
    expect(await requestedAt(cp.client, ns, "other")).toBeUndefined();
  });

  it("Given invalid Alerts, Providers and a Receiver without its Secret / should report each with a reason and message, keep running, and recover when fixed", async () => {
    const { ns, hook, start } = await setup("notif-invalid");
    const proc = await start();
    await createProvider(cp.client, ns, "good", { type: "generic", address: hook.url });
    await createProvider(cp.client, ns, "no-secret", { type: "generic", secretRef: { name: "late-secret" } });
    await createProvider(cp.client, ns, "unknown-type", { type: "sentry", address: "https://sentry.example.com" });
    await createProvider(cp.client, ns, "bad-address", { type: "generic", address: "not a url" });
    await createProvider(cp.client, ns, "bad-expr", {
      type: "github",
      address: "https://github.com/org/app",
      commitStatusExpr: "event.involvedObject.kind +",
    });
    const sources = [{ kind: "GitRepository", name: "*" }];
    await createAlert(cp.client, ns, "bad-regex", {
      providerRef: { name: "good" },
      eventSources: sources,
      exclusionList: ["(unclosed"],
    });
    await createAlert(cp.client, ns, "no-provider", { providerRef: { name: "missing" }, eventSources: sources });
    await createAlert(cp.client, ns, "waits-for-secret", { providerRef: { name: "no-secret" }, eventSources: sources });
    await cp.client.apply(
      {
        apiVersion: receiverType.apiVersion,
        kind: "Receiver",
        metadata: { name: "no-token", namespace: ns },
        spec: { type: "generic", secretRef: { name: "absent" }, resources: [{ kind: "GitRepository", name: "x" }] },
      },
      { fieldManager: "capstan-test", force: true },
    );

    const warning = (kind: string, name: string) =>
      eventually(
        async () =>
          (await eventsFor(cp.client, ns, kind, name)).find(
            (e: KubeEvent) => e.type === "Warning" && e.reason === "InvalidConfig",
          ),
        { what: `a Warning Event on ${kind} ${name}` },
      );
    expect((await warning("Alert", "bad-regex")).message).toBe(
      "failed to compile filters: invalid regular expression(s): exclusionList '(unclosed'",
    );
    expect((await warning("Alert", "no-provider")).message).toBe(`Provider '${ns}/missing' not found`);
    expect((await warning("Provider", "no-secret")).message).toBe(
      `spec.secretRef: Secret '${ns}/late-secret' not found`,
    );
    expect((await warning("Alert", "waits-for-secret")).message).toBe(
      `Provider '${ns}/no-secret' cannot be used: spec.secretRef: Secret '${ns}/late-secret' not found`,
    );
    expect((await warning("Provider", "unknown-type")).message).toBe("unsupported provider type 'sentry'");
    expect((await warning("Provider", "bad-address")).message).toBe(
      "generic provider address is not a valid http(s) URL",
    );
    expect((await warning("Provider", "bad-expr")).message).toMatch(/^invalid spec\.commitStatusExpr: \S/);
    const receiver = await eventually(
      async () => {
        const r = await cp.client.get<
          KubeObject & { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } }
        >({
          apiVersion: receiverType.apiVersion,
          kind: "Receiver",
          namespace: ns,
          name: "no-token",
        });
        return r?.status?.conditions?.find((c) => c.type === "Ready" && c.status === "False");
      },
      { what: "Receiver Ready=False" },
    );
    expect(receiver).toMatchObject({
      reason: "TokenNotFound",
      message: `unable to read token from secret '${ns}/absent': Secret not found`,
    });
    expect((await fetch(`${proc.healthUrl}/readyz`)).status).toBe(200);

    // The Secret appears: the Provider and its Alert are re-resolved, and notifications flow.
    await setRepo(cp.client, ns, "podinfo", { revision: rev(1), at: T(0), ready: readyTrue(rev(1), T(0)) });
    await createSecret(cp.client, ns, "late-secret", { address: hook.url });
    await eventually(() => markExists(cp.client, ns, "waits-for-secret"), {
      what: "the Alert bound once its Secret exists",
    });
    const normal = await eventually(async () =>
      (await eventsFor(cp.client, ns, "Alert", "waits-for-secret")).find((e) => e.type === "Normal"),
    );
    expect(normal.message).toBe(`Alert ${ns}/waits-for-secret is bound to Provider ${ns}/no-secret`);
    await setRepo(cp.client, ns, "podinfo", { revision: rev(2), at: T(5), ready: readyTrue(rev(2), T(0)) });
    const bodies = await settledBodies(hook, 1);
    expect(bodies.map((b) => b.reason)).toEqual(["NewArtifact"]);
    expect(proc.child.exitCode).toBeNull();
  });
});
