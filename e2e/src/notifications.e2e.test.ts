// End-to-end: the umbrella chart's controllers (source-, kustomize-, helm- and notification-controller) as their
// charts start them. A Slack-style incoming webhook and a generic webhook
// receive success and failure alerts; a signed GitHub push to a Receiver makes the sync start at once.
import { createHmac, randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { eventually, testKubeconfigPath } from "@capstan/cluster/testing";
import { type GitOpsEnv, startGitOpsEnv } from "@capstan/devenv/gitops";
import type { KubeObject } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

async function startWebhookSink(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let data = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => {
      data += c;
    });
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers, body: JSON.parse(data) as Record<string, unknown> });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const deployment = (image: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - name: web
          image: ${image}
`;

describe("Given the umbrella chart's controllers with a Slack-style and a generic webhook", {
  timeout: 180_000,
}, () => {
  const kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
  let env: GitOpsEnv;
  let sink: Awaited<ReturnType<typeof startWebhookSink>>;
  const apply = (obj: KubeObject) => env.client.apply(obj, { fieldManager: "capstan-e2e", force: true });

  beforeAll(async () => {
    sink = await startWebhookSink();
    env = await startGitOpsEnv({ kubeconfig, prefix: "e2e-notify" });
    const ns = env.namespace;
    for (const [name, type] of [
      ["slack", "slack"],
      ["webhook", "generic"],
    ] as const) {
      await apply({
        apiVersion: "notification.toolkit.fluxcd.io/v1beta3",
        kind: "Provider",
        metadata: { name, namespace: ns },
        spec: { type, address: `${sink.url}/${name}`, ...(type === "slack" ? { channel: "deploys" } : {}) },
      });
      await apply({
        apiVersion: "notification.toolkit.fluxcd.io/v1beta3",
        kind: "Alert",
        metadata: { name, namespace: ns },
        spec: {
          providerRef: { name },
          eventSeverity: "info",
          eventSources: [{ kind: "Kustomization", name: "*" }],
        },
      });
    }
  }, 180_000);
  afterAll(async () => {
    await env?.close();
    await sink?.close();
  }, 120_000);

  const byPath = (path: string) => sink.received.filter((r) => r.path === path);

  it("should post success and failure alerts to both, in their own formats", async () => {
    const good = await env.repo.commit({
      "app/kustomization.yaml": "resources:\n  - deployment.yaml\n",
      "app/deployment.yaml": deployment("nginx:1.27"),
    });
    await env.gitRepository("app", { interval: "2s" });
    await env.kustomization("web", { path: "./app", targetNamespace: env.namespace });
    await env.ready("Kustomization", "web", 90_000);

    const success = await eventually(
      () => byPath("/webhook").find((r) => r.body.severity === "info" && r.body.reason === "ReconciliationSucceeded"),
      { timeoutMs: 60_000, what: () => `a success on the generic webhook (got ${JSON.stringify(sink.received)})` },
    );
    expect(success.body).toMatchObject({
      involvedObject: { kind: "Kustomization", name: "web", namespace: env.namespace },
      severity: "info",
      reportingController: "kustomize-controller",
      metadata: { revision: `main@sha1:${good}` },
    });
    expect(success.headers["gotk-component"]).toBe("kustomize-controller");
    const slackSuccess = await eventually(
      () =>
        byPath("/slack").find((r) => (r.body.attachments as { color: string }[] | undefined)?.[0]?.color === "good"),
      { timeoutMs: 60_000, what: "a success on the Slack webhook" },
    );
    expect(slackSuccess.body).toMatchObject({
      channel: "deploys",
      // Flux's Slack notifier writes the kind in lower case.
      attachments: [{ color: "good", author_name: `kustomization/web.${env.namespace}` }],
    });

    // A commit that breaks the build turns into an error alert on both.
    await env.repo.commit({ "app/kustomization.yaml": "resources:\n  - missing.yaml\n" });
    const failure = await eventually(
      () => byPath("/webhook").find((r) => r.body.severity === "error" && r.body.reason === "BuildFailed"),
      {
        timeoutMs: 60_000,
        what: () => `a BuildFailed alert (got ${JSON.stringify(byPath("/webhook").map((r) => r.body))})`,
      },
    );
    expect(failure.body).toMatchObject({
      involvedObject: { kind: "Kustomization", name: "web" },
      reason: "BuildFailed",
    });
    expect(String(failure.body.message)).toContain("missing.yaml");
    // Waiting for the source's first artifact was no failure, and the same failure is not repeated.
    expect(
      byPath("/webhook")
        .filter((r) => r.body.severity === "error")
        .map((r) => r.body.reason),
    ).toEqual(["BuildFailed"]);
    const slackFailure = await eventually(
      () =>
        byPath("/slack").find((r) => (r.body.attachments as { color: string }[] | undefined)?.[0]?.color === "danger"),
      { timeoutMs: 60_000, what: "a failure on the Slack webhook" },
    );
    expect(JSON.stringify(slackFailure.body)).toContain("missing.yaml");
  });

  it("should start a sync at once when GitHub posts a signed push to the Receiver", async () => {
    const token = randomBytes(16).toString("hex");
    await apply({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "github-token", namespace: env.namespace },
      stringData: { token },
    });
    // An hour between polls: only the webhook can bring the new commit in during this test.
    await env.gitRepository("pushed", { interval: "1h" });
    const first = await env.ready<KubeObject & { status: { artifact: { revision: string } } }>(
      "GitRepository",
      "pushed",
    );
    await apply({
      apiVersion: "notification.toolkit.fluxcd.io/v1",
      kind: "Receiver",
      metadata: { name: "github", namespace: env.namespace },
      spec: {
        type: "github",
        events: ["push"],
        secretRef: { name: "github-token" },
        resources: [{ apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", name: "pushed" }],
      },
    });
    const receiver = await eventually(
      async () => {
        const r = await env.get<KubeObject & { status?: { webhookPath?: string } }>(
          "notification.toolkit.fluxcd.io/v1",
          "Receiver",
          "github",
        );
        return r?.status?.webhookPath ? r : undefined;
      },
      { what: "Receiver webhookPath" },
    );
    const commit = await env.repo.commit({ "pushed.txt": `pushed at ${Date.now()}\n` });
    expect(first.status.artifact.revision).not.toBe(`main@sha1:${commit}`);

    const body = JSON.stringify({ ref: "refs/heads/main", after: commit, repository: { full_name: "capstan/app" } });
    const address = env.controllers.get("notification-controller").addresses["receiver-addr"];
    const post = (signature: string) =>
      fetch(`http://${address}${receiver.status?.webhookPath}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-github-event": "push", "x-hub-signature-256": signature },
        body,
      });
    expect((await post(`sha256=${"0".repeat(64)}`)).status).toBe(400);
    const signature = `sha256=${createHmac("sha256", token).update(body).digest("hex")}`;
    expect((await post(signature)).status).toBe(200);

    const synced = await eventually(
      async () => {
        const g = await env.get<KubeObject & { status?: { artifact?: { revision: string } } }>(
          "source.toolkit.fluxcd.io/v1",
          "GitRepository",
          "pushed",
        );
        return g?.status?.artifact?.revision === `main@sha1:${commit}` ? g : undefined;
      },
      { timeoutMs: 30_000, what: "the pushed commit in the GitRepository's artifact" },
    );
    expect(synced.metadata.annotations?.["reconcile.fluxcd.io/requestedAt"]).toBeDefined();
  });

  // The controllers run with only their chart's ServiceAccount and RBAC (harness/credentials.ts): a request the
  // apiserver refused them is a permission the chart lacks, even where the scenario above recovered from it.
  it("should never have refused the controllers a request of their own", () => {
    expect(env.controllers.permissionRefusals()).toEqual([]);
  });
});
