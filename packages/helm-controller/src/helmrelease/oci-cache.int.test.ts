// spec.chartRef kind OCIRepository and the chart cache, against the real apiserver, the real helm and the real CNCF
// distribution registry: the chart is pushed with the real `helm push`, and the OCIRepository's artifact URL is the
// registry's own blob URL of the chart layer (the bytes source-controller would store with `operation: copy`), so the
// registry's access log shows every download helm-controller makes. A release upgraded with the same artifact takes
// the chart from the cache; a pass with nothing to release reads no chart at all; a cache file altered on disk is
// noticed on use and downloaded again.
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { eventually } from "@capstan/cluster/testing";
import { helmPush, startRegistry, type TestRegistry } from "@capstan/gitserver";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { conditionOf, demoChart, fileScenario } from "../testing/harness.js";

const s = fileScenario("helm-ocicache");
let registry: TestRegistry;

beforeAll(async () => {
  registry = await startRegistry({ binPath: inject("capstanBinPath"), accessLog: true });
}, 60_000);

afterAll(async () => {
  await registry?.close();
});

function metric(text: string, name: string, labels: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

async function fetches(): Promise<{ download: number; cache: number }> {
  const text = await s.h.manager.metrics.text();
  return {
    download: metric(text, "capstan_helm_chart_fetches_total", 'source="download"'),
    cache: metric(text, "capstan_helm_chart_fetches_total", 'source="cache"'),
  };
}

const blobGets = (digest: string) =>
  registry.accessLog.filter((l) => l.startsWith(`"GET /v2/charts/demo/blobs/${digest} `));

/** An OCIRepository whose status says what source-controller says after pulling `<tag>@<manifest>` with `copy`. */
async function publishOci(name: string, revision: string, layerDigest: string): Promise<void> {
  const ref = { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "OCIRepository" };
  await s.h.client.apply(
    {
      ...ref,
      metadata: { name, namespace: s.ns.name },
      spec: {
        url: `oci://${registry.host}/charts/demo`,
        interval: "10m",
        insecure: true,
        layerSelector: { mediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip", operation: "copy" },
      },
    },
    { fieldManager: "test" },
  );
  const generation = (await s.h.client.get({ ...ref, name, namespace: s.ns.name }))?.metadata.generation ?? 1;
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  await s.h.client.applyStatus(
    {
      ...ref,
      metadata: { name, namespace: s.ns.name },
      status: {
        observedGeneration: generation,
        artifact: {
          path: `ocirepository/${s.ns.name}/${name}/chart.tgz`,
          url: `http://${registry.host}/v2/charts/demo/blobs/${layerDigest}`,
          revision,
          digest: layerDigest,
          lastUpdateTime: now,
        },
        conditions: [
          {
            type: "Ready",
            status: "True",
            reason: "Succeeded",
            message: `stored artifact for digest '${revision}'`,
            lastTransitionTime: now,
            observedGeneration: generation,
          },
        ],
      },
    },
    { fieldManager: "source-controller", force: true },
  );
}

function releasedWith(name: string, version: number, message: string) {
  return eventually(
    async () => {
      const hr = await s.h.getHelmRelease(name);
      const data = await s.h.configMapData(`${name}-config`);
      return (
        conditionOf(hr, "Ready")?.status === "True" &&
        hr?.status?.history?.[0]?.version === version &&
        data?.message === message &&
        hr
      );
    },
    { timeoutMs: 90_000, what: `${name} release v${version} with message ${message}` },
  );
}

describe("Given a HelmRelease with chartRef OCIRepository whose chart was pushed with helm push", () => {
  it("should download the chart once, take it from the cache on upgrade, read nothing on a no-op pass, and download again a cache file altered on disk", async () => {
    const chart = await s.h.chart(demoChart("1.0.0"));
    const manifest = await helmPush({ helm: s.h.helm, registry, chartFile: chart.file, repository: "charts" });
    // `helm push` uploads the package as the chart layer: the layer digest is the package's.
    await publishOci("demo", `1.0.0@${manifest}`, chart.digest);
    const release = (message: string) =>
      s.h.helmRelease("app", { chartRef: { kind: "OCIRepository", name: "demo" }, values: { message } });

    await release("one");
    const first = await releasedWith("app", 1, "one");
    expect(first.status?.history?.[0]?.chartVersion).toBe(`1.0.0+${manifest.slice(7, 19)}`);
    expect(first.status?.lastAttemptedRevisionDigest).toBe(manifest);
    expect(blobGets(chart.digest)).toEqual([`"GET /v2/charts/demo/blobs/${chart.digest} HTTP/1.1" 200`]);
    expect(await fetches()).toEqual({ download: 1, cache: 0 });

    // A pass with nothing to release: the chart version is known by the artifact digest, no package is read.
    await s.h.client.mergePatch(
      { apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", namespace: s.ns.name, name: "app" },
      { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "noop" } } },
    );
    await eventually(async () => (await s.h.getHelmRelease("app"))?.status?.lastHandledReconcileAt === "noop", {
      what: "app handled noop",
    });
    expect(await fetches()).toEqual({ download: 1, cache: 0 });

    // New values, same artifact: the upgrade takes the chart from the cache; the registry serves no second blob.
    await release("two");
    const second = await releasedWith("app", 2, "two");
    expect(second.status?.history?.[0]?.chartVersion).toBe(`1.0.0+${manifest.slice(7, 19)}`);
    expect(blobGets(chart.digest)).toHaveLength(1);
    expect(await fetches()).toEqual({ download: 1, cache: 1 });

    // The kept file altered on disk: noticed when used (digest), dropped and downloaded again; helm never reads it.
    const dir = join(s.h.work, "scratch", "chart-cache");
    const kept = (await readdir(dir)).filter((f) => f.endsWith(".tgz"));
    expect(kept).toEqual([`${chart.digest.slice(7)}.tgz`]);
    await writeFile(join(dir, kept[0] ?? ""), "not the chart");
    await release("three");
    const third = await releasedWith("app", 3, "three");
    expect(conditionOf(third, "Released")?.reason).toBe("UpgradeSucceeded");
    expect(blobGets(chart.digest)).toHaveLength(2);
    expect(await fetches()).toEqual({ download: 2, cache: 1 });
  });
});
