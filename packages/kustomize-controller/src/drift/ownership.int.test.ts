// Two Kustomizations applying the same objects, under the one field manager name: the second takes the objects'
// owner labels. That write is not the first Kustomization's own, so its apply shortcut may not trust the objects
// (corrected at its next interval, as Flux does), and when the second is deleted with prune: false the first is
// reconciled within seconds and takes its objects back.
import { eventually } from "@capstan/cluster/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { configMap, fileScenario, getConfigMap, readyAt, untilKustomization } from "../testing/scenario.js";

const s = fileScenario("ks-ownership", { options: { driftDebounceMs: 200 } });
let revision = "";

const ownerOf = async (name: string) =>
  (await getConfigMap(s.h, name))?.metadata.labels?.["kustomize.toolkit.fluxcd.io/name"];
const reconciles = async (name: string) =>
  (await s.h.getKustomization(name))?.status?.history?.[0]?.totalReconciliations ?? 0;

/** Kustomization `first` applies ./<dir>; then `second`, with prune: false, applies the same and takes the labels. */
async function contest(dir: string, first: string, second: string, firstInterval: string): Promise<void> {
  const { ns, h } = s;
  await h.kustomization(first, { path: `./${dir}`, targetNamespace: ns.name, interval: firstInterval });
  await untilKustomization(h, first, "Ready", readyAt(revision));
  await eventually(() => h.kustomize.drift?.token(["/ConfigMap"]), { what: "ConfigMaps watched" });
  await h.kustomization(second, { path: `./${dir}`, targetNamespace: ns.name, interval: "1h", prune: false });
  await untilKustomization(h, second, "Ready", readyAt(revision));
}

beforeAll(async () => {
  const { h } = s;
  const a = await h.artifact({ "one/cm.yaml": configMap("one", "1"), "two/cm.yaml": configMap("two", "2") });
  await h.publish("repo", a);
  revision = a.revision;
});

describe("objects applied by two Kustomizations", () => {
  it("Given the second Kustomization took the objects, should give them back at the first one's next interval", async () => {
    await contest("two", "a2", "b2", "2s");
    // A reconcile of a2 that began before b2's apply may still end: the one after it must find b2's labels.
    const start = await reconciles("a2");
    await eventually(async () => (await reconciles("a2")) >= start + 2, {
      what: "a2 reconciled twice more",
      timeoutMs: 30_000,
    });
    expect(await ownerOf("two")).toBe("a2");
  });

  it("Given the second Kustomization deleted with prune: false, should give the objects back within seconds", async () => {
    const { h } = s;
    // An interval of 1h: only the watch can bring a1 back in time.
    await contest("one", "a1", "b1", "1h");
    expect(await ownerOf("one")).toBe("b1");
    await h.client.delete({
      apiVersion: "kustomize.toolkit.fluxcd.io/v1",
      kind: "Kustomization",
      name: "b1",
      namespace: h.namespace,
    });
    await eventually(async () => (await ownerOf("one")) === "a1", { what: "a1 owns cm one again", timeoutMs: 30_000 });
    expect((await getConfigMap(h, "one"))?.metadata.labels).toMatchObject({
      "kustomize.toolkit.fluxcd.io/namespace": h.namespace,
    });
  });
});
