// A controller that dies in the middle of an apply (a Capstan improvement over Flux, which records the inventory only
// after the apply): the first controller stops for good after writing 6 of 12 objects, the source shrinks to 4, and
// a new controller must leave exactly those 4 objects labelled as the Kustomization's, pruning what the crashed
// apply had created.
import { ensureBinaries } from "@capstan/cluster";
import { createTestNamespace, loadKubeConfig } from "@capstan/cluster/testing";
import type { KubeObject } from "@capstan/runtime";
import { describe, expect, it, onTestFinished } from "vitest";
import { ensureCrds, Harness } from "../testing/harness.js";
import { configMap, kubeconfig, readyAt, untilKustomization } from "../testing/scenario.js";

const names = (n: number) => Array.from({ length: n }, (_, i) => `cm${String(i).padStart(2, "0")}`);
const tree = (n: number) => Object.fromEntries(names(n).map((name) => [`${name}.yaml`, configMap(name, name)]));
const configMapType = { group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true };

describe("a crash in the middle of an apply", () => {
  it("Given a controller killed after 6 of 12 objects and a source shrunk to 4, should converge to exactly the 4 objects", async () => {
    const kubeconfigPath = kubeconfig();
    const kustomizeBinary = (await ensureBinaries()).bin.kustomize;
    await ensureCrds(kubeconfigPath);
    const ns = await createTestNamespace(loadKubeConfig(kubeconfigPath), "ks-crash");
    onTestFinished(() => ns.delete());

    // The "kill": from the 7th write on, the first controller's apply never goes on (until the test ends).
    let writes = 0;
    let crashed!: () => void;
    const crash = new Promise<void>((resolve) => {
      crashed = resolve;
    });
    let kill!: (err: Error) => void;
    const dead = new Promise<void>((_, reject) => {
      kill = reject;
    });
    dead.catch(() => undefined);
    const h1 = new Harness({
      kubeconfigPath,
      namespace: ns.name,
      kustomizeBinary,
      options: {
        beforeApplyWrite: async () => {
          if (++writes <= 6) return;
          crashed();
          await dead;
        },
      },
    });
    let h1Stopped: Promise<void> | undefined;
    onTestFinished(async () => {
      kill(new Error("killed"));
      await (h1Stopped ?? h1.stop());
    });
    await h1.start();
    await h1.publish("repo", await h1.artifact(tree(12)));
    await h1.kustomization("apps", { targetNamespace: ns.name });
    await crash;
    // Stop intake now: the hung reconcile is all that is left of the first controller. Its artifact server still
    // serves the shrunk source, published before the new controller starts, so that it sees only that revision.
    h1Stopped = h1.stop();
    const v2 = await h1.artifact(tree(4));
    await h1.publish("repo", v2);

    const h2 = new Harness({ kubeconfigPath, namespace: ns.name, kustomizeBinary });
    onTestFinished(() => h2.stop());
    await h2.start();
    const k = await untilKustomization(h2, "apps", "Ready at the shrunk revision", readyAt(v2.revision));

    expect(k.status?.inventory?.entries.map((e) => e.id)).toEqual(names(4).map((n) => `${ns.name}_${n}__ConfigMap`));
    const { items } = await h2.client.list<KubeObject>(configMapType, {
      namespace: ns.name,
      labelSelector: "kustomize.toolkit.fluxcd.io/name=apps",
    });
    expect(items.map((o) => o.metadata.name).sort()).toEqual(names(4));
  });
});
