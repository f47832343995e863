import { eventually } from "@capstan/cluster/testing";
import { describe, expect, it } from "vitest";
import type { KubeObject, Logger } from "../contracts.js";
import { useClusterScope } from "../testing/cluster-scope.js";
import { createEventRecorder } from "./recorder.js";

function recordingLogger() {
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => {
    lines.push({ level, message, fields });
  };
  const logger: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  return { logger, lines };
}

describe("EventRecorder against a real kube-apiserver", () => {
  const cluster = useClusterScope("events");

  const subject = (name: string) =>
    cluster.client.apply(
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: cluster.ns.name } },
      { fieldManager: "test" },
    );
  // What `kubectl events --for ConfigMap/<name>` asks the apiserver for.
  const eventsFor = async (name: string) => {
    const type = await cluster.client.resourceFor("v1", "Event");
    const { items } = await cluster.client.list(type, {
      namespace: cluster.ns.name,
      fieldSelector: `involvedObject.kind=ConfigMap,involvedObject.name=${name}`,
    });
    return items as (KubeObject & {
      count: number;
      message: string;
      reason: string;
      firstTimestamp: string;
      lastTimestamp: string;
    })[];
  };

  it("Given the same event three times, should write one Event whose count is 3, about the exact object", async () => {
    const obj = await subject("repeat");
    const recorder = createEventRecorder(cluster.client, { controller: "kustomize-controller", instance: "test-pod" });
    const annotations = {
      "kustomize.toolkit.fluxcd.io/revision": "main@sha1:0123456789abcdef0123456789abcdef01234567",
    };
    for (let i = 0; i < 3; i++) {
      recorder.event(obj, "Normal", "ReconciliationSucceeded", "Reconciliation finished", annotations);
    }
    await recorder.flush();
    recorder.event(obj, "Warning", "ReconciliationFailed", "apply failed");
    await recorder.flush();

    const events = await eventsFor("repeat");
    expect(events).toHaveLength(2);
    const ok = events.find((e) => e.reason === "ReconciliationSucceeded")!;
    expect(ok.count).toBe(3);
    expect(ok.lastTimestamp >= ok.firstTimestamp).toBe(true);
    expect(ok.metadata.annotations).toEqual(annotations);
    expect(ok).toMatchObject({
      type: "Normal",
      message: "Reconciliation finished",
      source: { component: "kustomize-controller" },
      reportingComponent: "kustomize-controller",
      reportingInstance: "test-pod",
      involvedObject: {
        apiVersion: "v1",
        kind: "ConfigMap",
        name: "repeat",
        namespace: cluster.ns.name,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
    });
    expect(events.find((e) => e.reason === "ReconciliationFailed")?.count).toBe(1);
  });

  it("Given a flapping object, should let only the burst through and log what it dropped", async () => {
    const obj = await subject("flapping");
    const { logger, lines } = recordingLogger();
    const recorder = createEventRecorder(cluster.client, { controller: "c", logger, spamBurst: 5 });
    for (let i = 0; i < 8; i++) recorder.event(obj, "Warning", "Flap", `attempt ${i}`);
    await recorder.flush();
    const events = await eventsFor("flapping");
    expect(events.map((e) => e.message).sort()).toEqual([
      "attempt 0",
      "attempt 1",
      "attempt 2",
      "attempt 3",
      "attempt 4",
    ]);
    expect(lines.filter((l) => l.message === "event dropped by the spam filter")).toHaveLength(3);
  });

  it("Given an Event that cannot be written, should not throw and should log why", async () => {
    const { logger, lines } = recordingLogger();
    const recorder = createEventRecorder(cluster.client, { controller: "c", logger });
    const ghost: KubeObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "x", namespace: "no-such-namespace-9z" },
    };
    expect(() => recorder.event(ghost, "Normal", "R", "m")).not.toThrow();
    await recorder.flush();
    await eventually(() => lines.find((l) => l.level === "warn"), { what: "a warning" });
    expect(lines.find((l) => l.level === "warn")?.fields.error).toMatch(
      /^create Event\/no-such-namespace-9z\/x\.[0-9a-f]+: NotFound/,
    );
  });
});
