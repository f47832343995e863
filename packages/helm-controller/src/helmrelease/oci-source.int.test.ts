// spec.chartRef kind OCIRepository against the real apiserver and the real helm: OCIRepositories whose status the test
// writes as source-controller would after pulling a chart layer with `operation: copy` (the artifact is the package
// `helm package` made, served on loopback). The end-to-end path with the real registry and source-controller is
// e2e/src/helm-oci.e2e.test.ts; this file covers Flux's version rule, a re-pushed tag and the bad inputs.
import { createHash } from "node:crypto";
import { HelmReleaseConditions } from "@capstan/api";
import { eventually } from "@capstan/cluster/testing";
import { describe, expect, it } from "vitest";
import { conditionOf, demoChart, fileScenario, type PublishedChart } from "../testing/harness.js";

const s = fileScenario("helm-ocisrc");

const digestOf = (seed: string) => `sha256:${createHash("sha256").update(seed).digest("hex")}`;

/** Creates (or updates) an OCIRepository and writes its status as source-controller would. */
async function publishOci(
  name: string,
  status: { revision: string; chart?: PublishedChart; digest?: string } | undefined,
) {
  const ref = { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "OCIRepository" };
  await s.h.client.apply(
    {
      ...ref,
      metadata: { name, namespace: s.ns.name },
      spec: {
        url: "oci://registry.example.com/charts/demo",
        interval: "10m",
        layerSelector: { mediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip", operation: "copy" },
      },
    },
    { fieldManager: "test" },
  );
  if (!status) return;
  const current = await s.h.client.get({ ...ref, name, namespace: s.ns.name });
  const generation = current?.metadata.generation ?? 1;
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  await s.h.client.applyStatus(
    {
      ...ref,
      metadata: { name, namespace: s.ns.name },
      status: {
        observedGeneration: generation,
        artifact: {
          path: `ocirepository/${s.ns.name}/${name}/x.tgz`,
          url: status.chart?.url ?? "http://127.0.0.1:1/none.tgz",
          revision: status.revision,
          digest: status.digest ?? status.chart?.digest ?? digestOf("none"),
          lastUpdateTime: now,
        },
        conditions: [
          {
            type: "Ready",
            status: "True",
            reason: "Succeeded",
            message: `stored artifact for digest '${status.revision}'`,
            lastTransitionTime: now,
            observedGeneration: generation,
          },
        ],
      },
    },
    { fieldManager: "source-controller", force: true },
  );
}

const release = (name: string, source: string) =>
  s.h.helmRelease(name, { chartRef: { kind: "OCIRepository", name: source }, values: { message: name } });

function readyWithChart(name: string, chartVersion: string) {
  return eventually(
    async () => {
      const hr = await s.h.getHelmRelease(name);
      return (
        conditionOf(hr, "Ready")?.status === "True" && hr?.status?.history?.[0]?.chartVersion === chartVersion && hr
      );
    },
    { timeoutMs: 90_000, what: `${name} Ready with chart ${chartVersion}` },
  );
}

function failingWith(name: string, reason: string) {
  return eventually(
    async () => {
      const hr = await s.h.getHelmRelease(name);
      const ready = conditionOf(hr, "Ready");
      return ready?.status === "False" && ready.reason === reason && hr;
    },
    { timeoutMs: 60_000, what: `${name} Ready=False ${reason}` },
  );
}

describe("Given a HelmRelease with chartRef kind OCIRepository", () => {
  it("should release the chart as <version>+<12 hex of the manifest digest>, and upgrade when the tag is pushed again with new content", async () => {
    const chart = await s.h.chart(demoChart("1.0.0"));
    const d1 = digestOf("manifest-1");
    await publishOci("demo", { revision: `1.0.0@${d1}`, chart });
    await release("app", "demo");
    const hr = await readyWithChart("app", `1.0.0+${d1.slice(7, 19)}`);
    expect(hr.status).toMatchObject({
      lastAttemptedRevision: `1.0.0+${d1.slice(7, 19)}`,
      lastAttemptedRevisionDigest: d1,
    });
    expect(hr.status?.helmChart).toBeUndefined();
    expect(conditionOf(hr, HelmReleaseConditions.Released)?.message).toBe(
      `Helm install succeeded for release ${s.ns.name}/app.v1 with chart demo@1.0.0+${d1.slice(7, 19)}`,
    );
    // The same tag pushed again with other content: a new manifest digest is a new release.
    const again = await s.h.chart(
      demoChart("1.0.0", {
        "templates/extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-extra\n",
      }),
    );
    const d2 = digestOf("manifest-2");
    await publishOci("demo", { revision: `1.0.0@${d2}`, chart: again });
    const upgraded = await readyWithChart("app", `1.0.0+${d2.slice(7, 19)}`);
    expect(upgraded.status?.history?.map((h) => `${h.version} ${h.status}`)).toEqual(["2 deployed", "1 superseded"]);
    const extra = await s.h.client.get({
      apiVersion: "v1",
      kind: "ConfigMap",
      name: "app-extra",
      namespace: s.ns.name,
    });
    expect(extra).toBeDefined();
  });

  it("should refuse a tag that is not the chart's version (ChartMutateError) and an artifact whose digest does not match (ArtifactFailed), releasing nothing", async () => {
    const chart = await s.h.chart(demoChart("1.0.0"));
    await publishOci("mismatch", { revision: `2.0.0@${digestOf("m")}`, chart });
    await release("mismatch", "mismatch");
    const mutate = await failingWith("mismatch", "ChartMutateError");
    expect(conditionOf(mutate, "Ready")?.message).toContain(
      "artifact revision 2.0.0 does not match chart version 1.0.0",
    );

    await publishOci("tampered", { revision: `1.0.0@${digestOf("t")}`, chart, digest: digestOf("something else") });
    await release("tampered", "tampered");
    const tampered = await failingWith("tampered", "ArtifactFailed");
    expect(conditionOf(tampered, "Ready")?.message).toMatch(/^Could not load chart: failed to verify artifact/);

    const { stdout } = await s.h.runHelm(["ls", "-n", s.ns.name, "-q"]);
    expect(stdout.split("\n")).not.toContain("mismatch");
    expect(stdout.split("\n")).not.toContain("tampered");
  });

  it("should wait with SourceNotReady while the OCIRepository has no artifact, then release once it has one", async () => {
    await publishOci("later", undefined);
    await release("later", "later");
    const waiting = await failingWith("later", "SourceNotReady");
    expect(conditionOf(waiting, "Ready")?.message).toMatch(/^OCIRepository '.*\/later' is not ready/);
    const chart = await s.h.chart(demoChart("1.2.0"));
    const d = digestOf("later");
    await publishOci("later", { revision: `1.2.0@${d}`, chart });
    await readyWithChart("later", `1.2.0+${d.slice(7, 19)}`);
  });
});
