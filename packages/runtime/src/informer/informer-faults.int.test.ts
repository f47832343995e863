import { type ControlPlane, startControlPlane } from "@capstan/cluster";
import { eventually } from "@capstan/cluster/testing";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { KubeClient } from "../client/kube-client.js";
import type { KubeObject, ResourceType } from "../contracts.js";
import { createInformer } from "./informer.js";
import { recordHandlers } from "./testing-recorder.js";

// Core Events are the one built-in resource the apiserver does not keep in its watch cache, so their watches are
// served by etcd and a compacted resourceVersion is answered with 410 (cached resources replay their snapshot).
describe("Informer when the API server misbehaves", () => {
  let plane: ControlPlane;
  let client: KubeClient;
  let configMaps: ResourceType;
  let events: ResourceType;

  beforeAll(async () => {
    plane = await startControlPlane({ workloads: false });
    client = new KubeClient({ kubeconfigPath: plane.kubeconfig });
    for (const name of ["gone", "restart"]) {
      await client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name } }, { fieldManager: "test" });
    }
    configMaps = await client.resourceFor("v1", "ConfigMap");
    events = await client.resourceFor("v1", "Event");
  }, 180_000);
  afterAll(async () => {
    client?.close();
    await plane?.stop();
  });

  const names = (objs: KubeObject[]) => objs.map((o) => o.metadata.name).sort();

  it("Given a forced stale resourceVersion the server compacted, should relist on 410 without losing or repeating work", async () => {
    const ns = "gone";
    const put = (name: string, v: string) =>
      client.apply(
        {
          apiVersion: "v1",
          kind: "Event",
          metadata: { name, namespace: ns },
          involvedObject: { kind: "ConfigMap", name: "x", namespace: ns },
          reason: "Test",
          message: v,
          type: "Normal",
        } as KubeObject,
        { fieldManager: "test", force: true },
      );
    const remove = (name: string) => client.delete({ apiVersion: "v1", kind: "Event", name, namespace: ns });
    for (const n of ["keep", "change", "drop"]) await put(n, "1");
    const informer = createInformer(client, events, { namespace: ns, backoff: { initialMs: 100, maxMs: 1000 } });
    onTestFinished(() => informer.stop());
    const rec = recordHandlers();
    informer.addHandlers(rec.handlers);
    await informer.start();

    await put("marker", "1");
    await eventually(() => informer.cache.get(`${ns}/marker`), { what: "marker seen" });
    await plane.compactEtcd(informer.lastSyncResourceVersion());

    informer.testing.forceStaleResourceVersion("1");
    await put("change", "2");
    await remove("drop");
    await put("new", "1");

    await eventually(() => informer.stats().goneRelists >= 1, { what: "a relist after 410" });
    await eventually(() => informer.cache.get(`${ns}/new`) && !informer.cache.get(`${ns}/drop`), {
      what: "cache caught up",
    });
    expect(informer.stats().lists).toBe(2);
    expect(names(informer.cache.list(ns))).toEqual(["change", "keep", "marker", "new"]);
    expect(informer.cache.get(`${ns}/change`)?.message).toBe("2");
    expect(rec.of("keep")).toEqual(["add"]);
    expect(rec.of("marker")).toEqual(["add"]);
    expect(rec.of("change")).toEqual(["add", "update"]);
    expect(rec.of("drop")).toEqual(["add", "delete"]);
    expect(rec.of("new")).toEqual(["add"]);
  });

  it("Given a watch from a compacted resourceVersion, the client should end it with a 410 ApiError", async () => {
    const { resourceVersion } = await client.list(events, { namespace: "gone", limit: 1 });
    await plane.compactEtcd(resourceVersion);
    const err = await new Promise<Error | undefined>((resolve) => {
      void client.watch(events, { namespace: "gone", resourceVersion: "2" }, () => undefined, resolve);
    });
    expect(err).toMatchObject({ status: 410, reason: "Expired" });
    expect(err?.message).toMatch(/^watch Event in gone: Expired: /);
  });

  it("Given the kube-apiserver restarts mid-watch, should reconnect and catch up on what changed", async () => {
    const ns = "restart";
    const put = (name: string, v: string) =>
      client.apply(
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: ns }, data: { v } } as KubeObject,
        { fieldManager: "test", force: true },
      );
    const remove = (name: string) => client.delete({ apiVersion: "v1", kind: "ConfigMap", name, namespace: ns });
    for (const n of ["a", "b"]) await put(n, "1");
    const informer = createInformer(client, configMaps, { namespace: ns, backoff: { initialMs: 100, maxMs: 2000 } });
    onTestFinished(() => informer.stop());
    const rec = recordHandlers();
    informer.addHandlers(rec.handlers);
    await informer.start();
    expect(names(informer.cache.list(ns))).toEqual(["a", "b"]);

    await plane.restart("kube-apiserver");
    await put("a", "2");
    await remove("b");
    await put("c", "1");

    await eventually(
      () =>
        informer.cache.get(`${ns}/c`) &&
        !informer.cache.get(`${ns}/b`) &&
        (informer.cache.get(`${ns}/a`)?.data as { v?: string } | undefined)?.v === "2",
      { what: "cache caught up after the restart", timeoutMs: 60_000 },
    );
    expect(informer.stats().watches).toBeGreaterThanOrEqual(2);
    expect(rec.of("a")).toEqual(["add", "update"]);
    expect(rec.of("b")).toEqual(["add", "delete"]);
    expect(rec.of("c")).toEqual(["add"]);
  });
});
