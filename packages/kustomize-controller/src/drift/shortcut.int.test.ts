// The apply shortcut against the real apiserver: with the drift watch covering a Kustomization's objects, an
// interval that finds the same rendered set and no drift dry-runs nothing, except every Nth (fullApplyEvery).
import { eventually } from "@capstan/cluster/testing";
import { describe, expect, it } from "vitest";
import type { Harness } from "../testing/harness.js";
import {
  appliedAt,
  configMap,
  fileScenario,
  getConfigMap,
  ownSource,
  untilKustomization,
} from "../testing/scenario.js";

const s = fileScenario("ks-shortcut", { options: { fullApplyEvery: 4, driftDebounceMs: 200 } });
const objects = 5;

const reconciles = async (h: Harness) =>
  (await h.getKustomization("apps"))?.status?.history?.[0]?.totalReconciliations ?? 0;

/** Publishes `tree` as "repo", has the Kustomization "apps" apply it every second, and waits for the drift watch. */
async function applyWatched(h: Harness, namespace: string, tree: Record<string, string>): Promise<void> {
  const a = await h.artifact(tree);
  await h.publish("repo", a);
  await h.kustomization("apps", { targetNamespace: namespace, interval: "1s" });
  await untilKustomization(h, "apps", "applied", appliedAt(a.revision));
  await eventually(() => h.kustomize.drift?.token(["/ConfigMap"]), { what: "ConfigMaps watched" });
}

describe("apply shortcut", () => {
  it("Given an unchanged source and no drift, should dry-run the objects only every 4th interval", async () => {
    const { ns, h } = s;
    const tree: Record<string, string> = {};
    for (let i = 0; i < objects; i++) {
      tree[`cm${i}.yaml`] = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm${i}\ndata:\n  i: "${i}"\n`;
    }
    await applyWatched(h, ns.name, tree);

    const start = await reconciles(h);
    h.requests.reset();
    await eventually(async () => (await reconciles(h)) >= start + 8, { what: "8 more reconciles", timeoutMs: 60_000 });
    const dryRunsAndApplies = h.requests.total((k) => k === "apply configmaps");
    const reads = h.requests.total((k) => k === "get configmaps");
    // Flux's way would be 8 × 5 reads and 8 × 5 dry-runs; here at most 3 full passes fall in the window (one of
    // them possibly cut by the window's edges), and at least one lies wholly inside it.
    expect(dryRunsAndApplies).toBeLessThanOrEqual(3 * objects);
    expect(dryRunsAndApplies).toBeGreaterThanOrEqual(objects);
    expect(reads).toBeLessThanOrEqual(3 * objects);
    // Nothing drifted, so nothing was written: every apply request was a dry-run.
    const cm = await h.client.get({ apiVersion: "v1", kind: "ConfigMap", name: "cm0", namespace: ns.name });
    expect(cm?.metadata.managedFields?.length).toBe(1);
  });

  it("Given a drift while the shortcut is in use, should still revert it", async () => {
    // Its own Kustomization and ConfigMap (not the test above's), so it passes or fails on its own.
    const { ns, h } = s;
    const a = await ownSource(h, "drift", { "drifting.yaml": configMap("drifting", "1") }, { interval: "1s" });
    const applied = async () => (await h.getKustomization("drift"))?.status?.lastAppliedRevision === a.revision;
    await eventually(applied, { what: "drift applied", timeoutMs: 60_000 });
    await eventually(() => h.kustomize.drift?.token(["/ConfigMap"]), { what: "ConfigMaps watched" });
    const ref = { apiVersion: "v1", kind: "ConfigMap", name: "drifting", namespace: ns.name };
    await h.client.mergePatch(ref, { data: { value: "changed" } }, { fieldManager: "kubectl-edit" });
    const restored = await eventually(
      async () => {
        const cm = await h.client.get(ref);
        return (cm?.data as Record<string, string> | undefined)?.value === "1" && cm;
      },
      { what: "drifting restored", timeoutMs: 30_000 },
    );
    expect(restored.data).toEqual({ value: "1" });
  });
});

describe("apply shortcut with an object the apply leaves alone", () => {
  const t = fileScenario("ks-shortcut-alone", { options: { fullApplyEvery: 4, driftDebounceMs: 200 } });

  it("Given an IfNotPresent object that existed without our owner labels, should still skip the dry-runs", async () => {
    const { ns, h } = t;
    await h.client.apply(
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "seed", namespace: ns.name }, data: { value: "mine" } },
      { fieldManager: "test" },
    );
    await applyWatched(h, ns.name, {
      "seed.yaml": configMap("seed", "git", "  annotations:\n    kustomize.toolkit.fluxcd.io/ssa: IfNotPresent\n"),
      "plain.yaml": configMap("plain", "1"),
    });
    const start = await reconciles(h);
    h.requests.reset();
    await eventually(async () => (await reconciles(h)) >= start + 8, { what: "8 more reconciles", timeoutMs: 60_000 });
    // Every interval would read both objects without the shortcut: 16 reads. At most 3 full passes fit.
    expect(h.requests.total((k) => k === "get configmaps")).toBeLessThanOrEqual(3 * 2);
    expect((await getConfigMap(h, "seed"))?.data).toEqual({ value: "mine" });
  });
});
