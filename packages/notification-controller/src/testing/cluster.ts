// Objects the process tests create on the control plane, written as a user (or source-controller) would.
import { alertType, gitRepositoryType, providerType } from "@capstan/api";
import { Annotations, type Client, type KubeObject, type ResourceType } from "@capstan/runtime";
import { watermarkConfigMapName } from "../alerts/watermark-store.js";
import type { WatchedObject } from "../events/watched.js";

const fm = { fieldManager: "capstan-test", force: true };
const sourceFm = { fieldManager: "source-controller", force: true };

export const eventType: ResourceType = { group: "", version: "v1", kind: "Event", plural: "events", namespaced: true };

export type RepoObject = WatchedObject;

export interface RepoStatus {
  revision: string;
  /** artifact.lastUpdateTime */
  at: string;
  ready: { status: "True" | "False"; reason: string; message: string; at: string };
}

export function rev(n: number): string {
  return `main@sha1:${n.toString(16).padStart(40, "0")}`;
}

/** Creates (or updates) a GitRepository and sets its status as source-controller would; returns the stored object. */
export async function setRepo(client: Client, namespace: string, name: string, s: RepoStatus): Promise<RepoObject> {
  await client.apply(
    {
      apiVersion: gitRepositoryType.apiVersion,
      kind: "GitRepository",
      metadata: { name, namespace },
      spec: { url: `https://git.example.com/${name}.git`, interval: "1m" },
    },
    fm,
  );
  return client.applyStatus<RepoObject>(
    {
      apiVersion: gitRepositoryType.apiVersion,
      kind: "GitRepository",
      metadata: { name, namespace },
      status: {
        observedGeneration: 1,
        artifact: {
          path: `gitrepository/${namespace}/${name}/${s.revision.slice(-40)}.tar.gz`,
          url: `http://source-controller.flux-system.svc/gitrepository/${namespace}/${name}/latest.tar.gz`,
          revision: s.revision,
          digest: `sha256:${"0".repeat(64)}`,
          lastUpdateTime: s.at,
        },
        conditions: [
          {
            type: "Ready",
            status: s.ready.status,
            reason: s.ready.reason,
            message: s.ready.message,
            lastTransitionTime: s.ready.at,
            observedGeneration: 1,
          },
        ],
      },
    },
    sourceFm,
  );
}

export async function createSecret(client: Client, namespace: string, name: string, data: Record<string, string>) {
  await client.apply(
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name, namespace },
      data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
    },
    fm,
  );
}

export async function createProvider(client: Client, namespace: string, name: string, spec: Record<string, unknown>) {
  return client.apply(
    { apiVersion: providerType.apiVersion, kind: "Provider", metadata: { name, namespace }, spec },
    fm,
  );
}

export async function createAlert(client: Client, namespace: string, name: string, spec: Record<string, unknown>) {
  return client.apply({ apiVersion: alertType.apiVersion, kind: "Alert", metadata: { name, namespace }, spec }, fm);
}

export interface KubeEvent extends KubeObject {
  type: string;
  reason: string;
  message: string;
  count?: number;
  involvedObject: { kind: string; name: string; namespace?: string };
}

export async function eventsFor(client: Client, namespace: string, kind: string, name: string): Promise<KubeEvent[]> {
  const { items } = await client.list<KubeEvent>(eventType, {
    namespace,
    fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}`,
  });
  return items;
}

/** Whether the Alert's notification mark exists: it is written once the Alert is bound and has its baseline. */
export async function markExists(client: Client, namespace: string, alert: string): Promise<boolean> {
  const cm = await client.get({ apiVersion: "v1", kind: "ConfigMap", namespace, name: watermarkConfigMapName(alert) });
  return cm !== undefined;
}

/** The GitRepository's reconcile.fluxcd.io/requestedAt, which a Receiver sets. */
export async function requestedAt(client: Client, namespace: string, name: string): Promise<string | undefined> {
  const repo = await client.get({ apiVersion: gitRepositoryType.apiVersion, kind: "GitRepository", namespace, name });
  return repo?.metadata.annotations?.[Annotations.ReconcileRequest];
}
