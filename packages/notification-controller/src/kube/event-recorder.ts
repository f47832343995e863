// Kubernetes Events (core/v1) for the Alerts, Providers and Receivers this controller handles. A stand-in for the
// runtime's events/ recorder, which has not landed: same EventRecorder contract, so main.ts swaps it in one line.
// Repeats of the same (object, type, reason, message) within this process bump the count of the first Event instead
// of creating another, as client-go's correlator does.
import { randomBytes } from "node:crypto";
import type { Client, EventRecorder, KubeObject, Logger } from "@capstan/runtime";

export interface KubeEventRecorderOptions {
  client: Client;
  /** reportingController / source.component: the controller binary's name. */
  component: string;
  /** reportingInstance / source.host: the pod name. */
  instance?: string;
  log: Logger;
  now?: () => Date;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
}

const maxRemembered = 4_096;

export function createKubeEventRecorder(options: KubeEventRecorderOptions): EventRecorder {
  const now = options.now ?? (() => new Date());
  const seen = new Map<string, Seen>();
  const post = async (
    obj: KubeObject,
    type: string,
    reason: string,
    message: string,
    annotations?: Record<string, string>,
  ) => {
    const namespace = obj.metadata.namespace || "default";
    const key = [obj.kind, namespace, obj.metadata.name, obj.metadata.uid ?? "", type, reason, message].join("\u0000");
    const at = now()
      .toISOString()
      .replace(/\.\d{3}Z$/, "Z");
    const previous = seen.get(key);
    if (previous) {
      previous.count++;
      const patched = await options.client
        .mergePatch(
          { apiVersion: "v1", kind: "Event", namespace: previous.namespace, name: previous.name },
          { count: previous.count, lastTimestamp: at },
          { fieldManager: options.component },
        )
        .then(() => true)
        .catch(() => false);
      if (patched) return;
      seen.delete(key); // expired or deleted: create a fresh one
    }
    const name = `${obj.metadata.name}.${Date.now().toString(16)}${randomBytes(2).toString("hex")}`;
    await options.client.create(
      {
        apiVersion: "v1",
        kind: "Event",
        metadata: { name, namespace, ...(annotations ? { annotations } : {}) },
        involvedObject: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: obj.metadata.name,
          namespace,
          ...(obj.metadata.uid ? { uid: obj.metadata.uid } : {}),
          ...(obj.metadata.resourceVersion ? { resourceVersion: obj.metadata.resourceVersion } : {}),
        },
        type,
        reason,
        message: message.length > 1024 ? `${message.slice(0, 1021)}...` : message,
        count: 1,
        firstTimestamp: at,
        lastTimestamp: at,
        source: { component: options.component, ...(options.instance ? { host: options.instance } : {}) },
        reportingComponent: options.component,
        reportingInstance: options.instance ?? options.component,
      },
      { fieldManager: options.component },
    );
    if (seen.size >= maxRemembered) seen.delete(seen.keys().next().value as string);
    seen.set(key, { name, namespace, count: 1 });
  };
  return {
    event(obj, type, reason, message, annotations) {
      post(obj, type, reason, message, annotations).catch((err: unknown) => {
        options.log.error(
          { err: (err as Error).message, event: { type, reason }, object: { kind: obj.kind, name: obj.metadata.name } },
          "unable to record Event",
        );
      });
    },
  };
}
