// Receivers in the integration tests: waiting for one to be Ready, and a GitHub push webhook signed as GitHub signs it
// (X-Hub-Signature-256 over the body).
import { createHmac } from "node:crypto";
import { type Receiver, receiverType } from "@capstan/api";
import { eventually } from "@capstan/cluster/testing";
import type { Client, KubeObject } from "@capstan/runtime";

export const pushBody = JSON.stringify({ ref: "refs/heads/main", after: "59b20b8d5c6ff8d09518454d4dd8b7a30f095ab5" });

export function githubSignature(key: string, body = pushBody): string {
  return `sha256=${createHmac("sha256", key).update(body).digest("hex")}`;
}

/** POSTs the push to `url` (the server's base URL + the webhook path) with `signature`; returns the status. */
export async function githubPush(url: string, signature: string): Promise<number> {
  const res = await fetch(url, {
    method: "POST",
    body: pushBody,
    headers: { "content-type": "application/json", "x-github-event": "push", "x-hub-signature-256": signature },
  });
  await res.arrayBuffer();
  return res.status;
}

export interface ReceiverWithStatus extends KubeObject {
  status?: {
    webhookPath?: string;
    observedGeneration?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

/** Waits for the Receiver to be Ready=True with a webhook path (other than `not`, after a token rotation). */
export async function readyReceiver(
  client: Client,
  namespace: string,
  name: string,
  not?: string,
): Promise<ReceiverWithStatus & { status: { webhookPath: string } }> {
  return eventually(
    async () => {
      const r = await client.get<ReceiverWithStatus>({
        apiVersion: receiverType.apiVersion,
        kind: "Receiver",
        namespace,
        name,
      });
      const path = r?.status?.webhookPath;
      const ready = r?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
      return ready && path && path !== not
        ? (r as ReceiverWithStatus & { status: { webhookPath: string } })
        : undefined;
    },
    { what: `Receiver ${namespace}/${name} Ready with a webhook path${not ? " other than the old one" : ""}` },
  );
}

/** Applies a github Receiver for push events on GitRepository `podinfo` (or `resources`), its token in `secret`. */
export function applyGithubReceiver(
  client: Client,
  namespace: string,
  name: string,
  options: { secret: string; labels?: Record<string, string>; resources?: { kind: string; name: string }[] },
): Promise<Receiver & KubeObject> {
  return client.apply<Receiver & KubeObject>(
    {
      apiVersion: receiverType.apiVersion,
      kind: "Receiver",
      metadata: { name, namespace, ...(options.labels ? { labels: options.labels } : {}) },
      spec: {
        type: "github",
        events: ["push"],
        secretRef: { name: options.secret },
        resources: options.resources ?? [{ kind: "GitRepository", name: "podinfo" }],
      },
    },
    { fieldManager: "capstan-test", force: true },
  );
}
