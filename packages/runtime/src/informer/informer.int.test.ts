import { eventually } from "@capstan/cluster/testing";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import type { KubeObject, ResourceType } from "../contracts.js";
import { useClusterScope } from "../testing/cluster-scope.js";
import { createInformer, stripManagedFields } from "./informer.js";
import { recordHandlers } from "./testing-recorder.js";

describe("Informer against a real kube-apiserver", () => {
  let configMaps: ResourceType;

  const cluster = useClusterScope("informer");
  beforeAll(async () => {
    configMaps = await cluster.client.resourceFor("v1", "ConfigMap");
  });

  const put = (name: string, data: Record<string, string>, labels: Record<string, string> = { app: "t" }) =>
    cluster.client.apply(
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name, namespace: cluster.ns.name, labels },
        data,
      } as KubeObject,
      { fieldManager: "test", force: true },
    );
  const remove = (name: string) =>
    cluster.client.delete({ apiVersion: "v1", kind: "ConfigMap", name, namespace: cluster.ns.name });

  it("Given existing objects, should have them cached when start resolves and tell handlers each change once", async () => {
    await put("pre", { v: "1" });
    const informer = createInformer(cluster.client, configMaps, { namespace: cluster.ns.name, labelSelector: "app=t" });
    onTestFinished(() => informer.stop());
    const rec = recordHandlers();
    informer.addHandlers(rec.handlers);
    await informer.start();
    expect(informer.hasSynced()).toBe(true);
    expect(informer.cache.get(`${cluster.ns.name}/pre`)?.data).toEqual({ v: "1" });

    await put("live", { v: "1" });
    await put("live", { v: "2" });
    await put("unlabelled", { v: "1" }, { app: "other" });
    await remove("live");
    await eventually(() => rec.of("live").includes("delete"), { what: "delete of live" });
    expect(rec.of("pre")).toEqual(["add"]);
    expect(rec.of("live")).toEqual(["add", "update", "delete"]);
    expect(rec.of("unlabelled")).toEqual([]);
    expect(informer.cache.get(`${cluster.ns.name}/live`)).toBeUndefined();
    expect(informer.cache.list(cluster.ns.name).map((o) => o.metadata.name)).toEqual(["pre"]);

    const late = recordHandlers();
    informer.addHandlers(late.handlers);
    expect(late.of("pre")).toEqual(["add"]);
  });

  it("Given stripManagedFields as transform / should cache listed and watched objects without managedFields", async () => {
    await put("listed", { v: "1" }, { app: "strip" });
    const informer = createInformer(cluster.client, configMaps, {
      namespace: cluster.ns.name,
      labelSelector: "app=strip",
      transform: stripManagedFields,
    });
    onTestFinished(() => informer.stop());
    const rec = recordHandlers();
    informer.addHandlers(rec.handlers);
    await informer.start();
    await put("watched", { v: "1" }, { app: "strip" });
    await eventually(() => rec.of("watched").includes("add"), { what: "add of watched" });
    for (const name of ["listed", "watched"]) {
      const cached = informer.cache.get(`${cluster.ns.name}/${name}`);
      expect(cached?.data).toEqual({ v: "1" });
      expect(cached?.metadata.resourceVersion).toBeTruthy();
      expect(cached?.metadata).not.toHaveProperty("managedFields");
    }
    // The apiserver does record them: the transform, not the server, left them out.
    const live = await cluster.client.get({
      apiVersion: "v1",
      kind: "ConfigMap",
      name: "watched",
      namespace: cluster.ns.name,
    });
    expect(live?.metadata.managedFields?.length).toBeGreaterThan(0);
  });

  it("Given metadataOnly, should cache names, labels and versions without the data", async () => {
    await put("meta", { secretish: "x".repeat(100) });
    const informer = createInformer(cluster.client, configMaps, { namespace: cluster.ns.name, metadataOnly: true });
    onTestFinished(() => informer.stop());
    await informer.start();
    const cached = informer.cache.get(`${cluster.ns.name}/meta`);
    expect(cached?.metadata.labels).toEqual({ app: "t" });
    expect(cached?.data).toBeUndefined();
    await put("meta", { secretish: "y" }, { app: "t", changed: "yes" });
    await eventually(() => informer.cache.get(`${cluster.ns.name}/meta`)?.metadata.labels?.changed === "yes", {
      what: "metadata-only update",
    });
  });

  it("Given a watch that stays silent longer than the watchdog allows, should restart it and miss nothing", async () => {
    const informer = createInformer(cluster.client, configMaps, { namespace: cluster.ns.name, watchdogMs: 700 });
    onTestFinished(() => informer.stop());
    const rec = recordHandlers();
    informer.addHandlers(rec.handlers);
    await informer.start();
    await eventually(() => informer.stats().watchdogRestarts >= 2, { what: "watchdog restarts" });
    await put("after-watchdog", { v: "1" });
    await eventually(() => informer.cache.get(`${cluster.ns.name}/after-watchdog`), { what: "object after restarts" });
    expect(rec.of("after-watchdog")).toEqual(["add"]);
    expect(rec.of("pre")).toEqual(["add"]);
    expect(informer.stats().lists).toBe(1);
  });
});
