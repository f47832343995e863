// The test controller's own kind: Widget (testing.capstan.dev/v1), namespaced, with a status subresource and a
// conditions list keyed by type, like Flux's kinds. Installed by the tests that use it.
import type { Client, KubeObject, ResourceType } from "../contracts.js";
import type { Condition } from "../reconcile/conditions.js";

export const widgetType: ResourceType = {
  group: "testing.capstan.dev",
  version: "v1",
  kind: "Widget",
  plural: "widgets",
  namespaced: true,
};

export interface WidgetSpec {
  message?: string;
  /** Go duration; requeue interval after success. */
  interval?: string;
  suspend?: boolean;
  /** Fail the first N passes of each generation with a transient error. */
  failTimes?: number;
  /** Throw a StallingError. */
  stall?: boolean;
  /** Throw a WaitingError that requeues after this many ms. */
  waitMs?: number;
  /** Hold the worker this long (to observe concurrency and draining). */
  sleepMs?: number;
}

export interface Widget extends KubeObject {
  spec?: WidgetSpec;
  status?: {
    observedGeneration?: number;
    lastHandledReconcileAt?: string;
    conditions?: Condition[];
    message?: string;
    [field: string]: unknown;
  };
}

const conditionSchema = {
  type: "object",
  required: ["type", "status", "lastTransitionTime", "reason", "message"],
  properties: {
    type: { type: "string" },
    status: { type: "string", enum: ["True", "False", "Unknown"] },
    observedGeneration: { type: "integer", format: "int64" },
    lastTransitionTime: { type: "string", format: "date-time" },
    reason: { type: "string" },
    message: { type: "string" },
  },
};

/** A namespaced v1 CRD of `group` with a status subresource, whose spec and status have the given properties. */
export function namespacedCrd(o: {
  group: string;
  kind: string;
  plural: string;
  singular: string;
  spec: Record<string, unknown>;
  status: Record<string, unknown>;
}): KubeObject {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${o.plural}.${o.group}` },
    spec: {
      group: o.group,
      names: { kind: o.kind, listKind: `${o.kind}List`, plural: o.plural, singular: o.singular },
      scope: "Namespaced",
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: "object",
              properties: {
                spec: { type: "object", properties: o.spec },
                status: { type: "object", properties: o.status },
              },
            },
          },
        },
      ],
    },
  };
}

export const widgetCrd: KubeObject = namespacedCrd({
  group: "testing.capstan.dev",
  kind: "Widget",
  plural: "widgets",
  singular: "widget",
  spec: {
    message: { type: "string" },
    interval: { type: "string" },
    suspend: { type: "boolean" },
    failTimes: { type: "integer" },
    stall: { type: "boolean" },
    waitMs: { type: "integer" },
    sleepMs: { type: "integer" },
  },
  status: {
    observedGeneration: { type: "integer", format: "int64" },
    lastHandledReconcileAt: { type: "string" },
    message: { type: "string" },
    conditions: {
      type: "array",
      items: conditionSchema,
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["type"],
    },
  },
});

const crdType: ResourceType = {
  group: "apiextensions.k8s.io",
  version: "v1",
  kind: "CustomResourceDefinition",
  plural: "customresourcedefinitions",
  namespaced: false,
};

/** Applies the Widget CRD and waits until it is Established (the kind is served). */
export async function installWidgetCrd(client: Client, timeoutMs = 30_000): Promise<void> {
  await client.apply(widgetCrd, { fieldManager: "capstan-tests", force: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { items } = await client.list<KubeObject & { status?: { conditions?: Condition[] } }>(crdType, {
      fieldSelector: `metadata.name=${widgetCrd.metadata.name}`,
    });
    const established = items[0]?.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
    if (established) return;
    if (Date.now() > deadline) throw new Error("install Widget CRD: not Established in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}
