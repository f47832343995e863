// --watch-label-selector shards Kustomizations only, as in Flux: a Kustomization with the shard label follows a
// GitRepository that carries none (the source watch is unfiltered), and one without the label is left to its shard.
import { kustomizationType } from "@capstan/api";
import { describe, expect, it } from "vitest";
import { appliedAt, configMap as cm, fileScenario, getConfigMap, untilKustomization } from "../testing/scenario.js";

const s = fileScenario("ks-shard", { flags: ["--watch-label-selector=sharding.fluxcd.io/key=shard1"] });

async function kustomization(name: string, labels: Record<string, string>): Promise<void> {
  const { ns, h } = s;
  await h.client.apply(
    {
      apiVersion: kustomizationType.apiVersion,
      kind: kustomizationType.kind,
      metadata: { name, namespace: ns.name, labels },
      spec: {
        // Long enough that only the source watch, not the interval, can bring the next revision within the test.
        interval: "1h",
        timeout: "30s",
        prune: true,
        targetNamespace: ns.name,
        sourceRef: { kind: "GitRepository", name: "repo" },
      },
    },
    { fieldManager: "test" },
  );
}

describe("Kustomization sharding", () => {
  it("Given a labelled Kustomization and an unlabelled GitRepository / should apply each new revision as the source changes", async () => {
    const { h } = s;
    const v1 = await h.artifact({ "a.yaml": cm("a", "1") });
    await h.publish("repo", v1);
    await kustomization("in-shard", { "sharding.fluxcd.io/key": "shard1" });
    await kustomization("other-shard", { "sharding.fluxcd.io/key": "shard2" });
    await untilKustomization(h, "in-shard", "first revision applied", appliedAt(v1.revision));

    const v2 = await h.artifact({ "a.yaml": cm("a", "2") });
    await h.publish("repo", v2);
    await untilKustomization(
      h,
      "in-shard",
      "the new revision applied on the unlabelled source's change",
      appliedAt(v2.revision),
    );
    expect((await getConfigMap(h, "a"))?.data).toEqual({ value: "2" });
    // Another shard's Kustomization is not this controller's to reconcile.
    expect((await h.getKustomization("other-shard"))?.status?.conditions ?? []).toEqual([]);
  });
});
