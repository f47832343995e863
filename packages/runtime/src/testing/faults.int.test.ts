import { readFileSync } from "node:fs";
import { type ControlPlane, startControlPlane } from "@capstan/cluster";
import { eventually } from "@capstan/cluster/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject, ObjectRef } from "../contracts.js";
import type { KubeInformer } from "../informer/index.js";
import { getCondition } from "../reconcile/conditions.js";
import { type Harness, startWidgetController } from "./harness.js";
import { type Widget, widgetType } from "./widget-crd.js";

const apiVersion = "testing.capstan.dev/v1";
const ns = "faults";

// Compacts etcd up to `revision` (what the apiserver does every five minutes) so that a watch from an older
// resourceVersion gets a real 410 Gone. etcd's JSON gateway needs no client library.
async function compactEtcd(plane: ControlPlane, revision: string): Promise<void> {
  const url = plane
    .pids()
    .flatMap((pid) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0"))
    .find((a) => a.startsWith("--listen-client-urls="))
    ?.slice("--listen-client-urls=".length)
    .split(",")[0];
  if (!url) throw new Error("compact etcd: etcd's client URL not found");
  const res = await fetch(`${url}/v3/kv/compaction`, {
    method: "POST",
    body: JSON.stringify({ revision, physical: true }),
  });
  if (!res.ok) throw new Error(`compact etcd: HTTP ${res.status}: ${await res.text()}`);
}

describe("Widget controller when the API server misbehaves (own control plane)", () => {
  let plane: ControlPlane;
  let h: Harness;

  beforeAll(async () => {
    plane = await startControlPlane({ workloads: false });
    h = await startWidgetController(plane.kubeconfig, ["--concurrent=2"]);
    await h.client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }, { fieldManager: "test" });
  }, 180_000);
  afterAll(async () => {
    await h?.stop();
    await plane?.stop();
  });

  const ref = (name: string): ObjectRef => ({ apiVersion, kind: "Widget", name, namespace: ns });
  const key = (name: string) => `${ns}/${name}`;
  const create = (name: string, message: string) =>
    h.client.create({ apiVersion, kind: "Widget", metadata: { name, namespace: ns }, spec: { message } } as KubeObject);
  const published = (name: string, message: string) =>
    eventually(
      async () => {
        const w = await h.client.get<Widget>(ref(name));
        return w?.status?.message === message && getCondition(w, "Ready")?.status === "True" ? w : undefined;
      },
      { what: `${name} publishes ${message}`, timeoutMs: 60_000 },
    );

  it("Given a kube-apiserver restart mid-test, should keep its watch and reconcile changes made after it", async () => {
    await create("before-restart", "one");
    await published("before-restart", "one");
    await plane.restart("kube-apiserver");
    await h.client.mergePatch(ref("before-restart"), { spec: { message: "two" } });
    await create("after-restart", "three");
    await published("before-restart", "two");
    await published("after-restart", "three");
    expect(h.ledger.overlaps).toBe(0);
  }, 120_000);

  it("Given a forced 410 Gone, should relist without losing changes made meanwhile or reconciling unchanged objects again", async () => {
    for (const name of ["steady", "changed"]) await create(name, "v1");
    await published("steady", "v1");
    await published("changed", "v1");
    const informer = h.manager.informer(widgetType) as KubeInformer;
    const counts = { steady: h.ledger.count(key("steady")), changed: h.ledger.count(key("changed")) };
    const relists = informer.stats().goneRelists;

    await compactEtcd(plane, informer.lastSyncResourceVersion());
    informer.testing.forceStaleResourceVersion("1");
    // Changed while the informer is between watches: only the relist can deliver it.
    await h.client.mergePatch(ref("changed"), { spec: { message: "v2" } });
    await create("created-during-gap", "new");

    await eventually(() => informer.stats().goneRelists > relists, { what: "a relist after 410" });
    await published("changed", "v2");
    await published("created-during-gap", "new");
    expect(h.ledger.count(key("changed"))).toBe(counts.changed + 1);
    expect(h.ledger.count(key("steady"))).toBe(counts.steady);
    expect(h.ledger.count(key("created-during-gap"))).toBe(1);
  }, 120_000);
});
