// spec.postRenderers with the real helm v4 (its post-renderer plugin, written by the controller into its scratch
// directory) and the pinned kustomize: a strategic-merge patch, a JSON6902 patch and an image override show up on the
// live objects and in what Helm stored (`helm get manifest`); a changed post-renderer upgrades the release; a patch
// kustomize refuses fails the install with kustomize's reason, nothing applied.
import { HelmReleaseConditions, HelmReleaseReasons } from "@capstan/api";
import { eventually } from "@capstan/cluster/testing";
import type { KubeObject } from "@capstan/runtime";
import { describe, expect, it } from "vitest";
import { conditionOf, demoChart, fileScenario, type PublishedChart } from "../testing/harness.js";
import { readyAt, releaseFailed } from "../testing/wait.js";

const s = fileScenario("helm-postrender");

type Deployment = KubeObject & { spec: { template: { spec: { containers: { image: string }[] } } } };

const deployment = (name: string) =>
  s.h.client.get<Deployment>({ apiVersion: "apps/v1", kind: "Deployment", name, namespace: s.ns.name });

const postRenderers = (tag: string) => [
  {
    kustomize: {
      patches: [
        {
          target: { version: "v1", kind: "Deployment", name: "patched" },
          patch: "- op: add\n  path: /metadata/labels\n  value: {environment: production}\n",
        },
        {
          patch: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: patched-config\n  labels:\n    team: payments\n",
        },
      ],
      images: [{ name: "registry.invalid/demo", newName: "registry.invalid/patched", newTag: tag }],
    },
  },
];

describe("Given a HelmRelease with kustomize post-renderers", () => {
  let chart: PublishedChart;

  it("should install the patched objects: a label by JSON6902, a label by strategic merge, the image overridden", async () => {
    chart = await s.h.chart(demoChart("1.0.0"));
    await s.h.helmRelease("patched", {
      chartRef: { kind: "HelmChart", name: "chart-patched" },
      values: { message: "hi" },
      postRenderers: postRenderers("2.0.0"),
      driftDetection: { mode: "warn" },
    });
    await s.h.publish("chart-patched", chart);
    const hr = await readyAt(s.h, "patched", 1);
    expect(hr.status?.observedPostRenderersDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const live = await deployment("patched");
    expect(live?.metadata.labels?.environment).toBe("production");
    expect(live?.spec.template.spec.containers[0]?.image).toBe("registry.invalid/patched:2.0.0");
    const cm = await s.h.client.get({
      apiVersion: "v1",
      kind: "ConfigMap",
      name: "patched-config",
      namespace: s.ns.name,
    });
    expect(cm?.metadata.labels?.team).toBe("payments");
    const { stdout } = await s.h.runHelm(["get", "manifest", "patched", "-n", s.ns.name]);
    expect(stdout).toContain("environment: production");
    expect(stdout).toContain("image: registry.invalid/patched:2.0.0");
    expect(stdout).toContain("team: payments");
    expect(stdout).not.toContain("registry.invalid/demo");
  });

  it("should find no drift in the post-rendered objects Helm stored", async () => {
    await s.h.client.mergePatch(
      { apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", name: "patched", namespace: s.ns.name },
      { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "once-more" } } },
    );
    await eventually(
      async () => (await s.h.getHelmRelease("patched"))?.status?.lastHandledReconcileAt === "once-more",
      {
        what: "patched reconciled again",
      },
    );
    const { items } = await s.h.client.list<KubeObject & { reason?: string }>(
      { group: "", version: "v1", kind: "Event", plural: "events", namespaced: true },
      { namespace: s.ns.name },
    );
    expect(items.filter((e) => e.reason === "DriftDetected")).toEqual([]);
  });

  it("should upgrade the release when only the post-renderers change", async () => {
    await s.h.helmRelease("patched", {
      chartRef: { kind: "HelmChart", name: "chart-patched" },
      values: { message: "hi" },
      postRenderers: postRenderers("2.0.1"),
      driftDetection: { mode: "warn" },
    });
    await readyAt(s.h, "patched", 2);
    expect((await deployment("patched"))?.spec.template.spec.containers[0]?.image).toBe(
      "registry.invalid/patched:2.0.1",
    );
  });

  it("should fail the install with kustomize's reason when a patch does not apply, nothing released", async () => {
    await s.h.helmRelease("broken", {
      chartRef: { kind: "HelmChart", name: "chart-patched" },
      postRenderers: [
        {
          kustomize: {
            patches: [
              {
                target: { kind: "Deployment" },
                patch: "- op: replace\n  path: /spec/no/such/field\n  value: 1\n",
              },
            ],
          },
        },
      ],
    });
    const hr = await releaseFailed(s.h, "broken");
    const released = conditionOf(hr, HelmReleaseConditions.Released);
    expect(released?.reason).toBe(HelmReleaseReasons.InstallFailed);
    expect(released?.message).toContain("post-renderer 0: kustomize build failed");
    expect(released?.message).not.toContain(s.h.work);
    expect(await deployment("broken")).toBeUndefined();
  });
});
