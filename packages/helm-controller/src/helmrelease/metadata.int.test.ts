// Flux's built-in labelling and spec.commonMetadata with the real helm v4: every object of every release carries
// `helm.toolkit.fluxcd.io/name` and `…/namespace` (the HelmRelease's), with or without post-renderers;
// commonMetadata's labels and annotations land on every object (metadata only) and in what Helm stored, a change of
// them upgrades the release, and drift detection sees no drift in them.
import { eventually } from "@capstan/cluster/testing";
import type { KubeObject } from "@capstan/runtime";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { demoChart, fileScenario } from "../testing/harness.js";
import { readyAt } from "../testing/wait.js";

const s = fileScenario("helm-metadata");

type Deployment = KubeObject & { spec: { template: { metadata: { labels?: Record<string, string> } } } };

const get = <T extends KubeObject>(kind: string, apiVersion: string, name: string) =>
  s.h.client.get<T>({ apiVersion, kind, name, namespace: s.ns.name });

const ready = (name: string, version: number) => readyAt(s.h, name, version);

const origin = (name: string) => ({
  "helm.toolkit.fluxcd.io/name": name,
  "helm.toolkit.fluxcd.io/namespace": s.ns.name,
});

describe("Given HelmReleases with and without spec.commonMetadata", () => {
  it("should label every object of a release with its HelmRelease's name and namespace", async () => {
    await s.h.publish("chart", await s.h.chart(demoChart("1.0.0")));
    await s.h.helmRelease("plain", { chartRef: { kind: "HelmChart", name: "chart" } });
    await ready("plain", 1);
    const cm = await get("ConfigMap", "v1", "plain-config");
    expect(cm?.metadata.labels).toMatchObject(origin("plain"));
    const deploy = await get<Deployment>("Deployment", "apps/v1", "plain");
    expect(deploy?.metadata.labels).toMatchObject(origin("plain"));
    // Metadata only: the pod template (and so the selector's pods) is the chart's.
    expect(deploy?.spec.template.metadata.labels).toEqual({ app: "plain" });
  });

  it("should set commonMetadata on every object and in Helm's stored manifest, and upgrade when it changes", async () => {
    await s.h.helmRelease("common", {
      chartRef: { kind: "HelmChart", name: "chart" },
      commonMetadata: { labels: { team: "payments" }, annotations: { "example.com/owner": "alice" } },
      driftDetection: { mode: "warn" },
    });
    const hr = await ready("common", 1);
    expect(hr.status?.observedCommonMetadataDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    for (const [kind, apiVersion, name] of [
      ["ConfigMap", "v1", "common-config"],
      ["Deployment", "apps/v1", "common"],
    ] as const) {
      const live = await get(kind, apiVersion, name);
      expect(live?.metadata.labels).toMatchObject({ team: "payments", ...origin("common") });
      expect(live?.metadata.annotations).toMatchObject({ "example.com/owner": "alice" });
    }
    const { stdout } = await s.h.runHelm(["get", "manifest", "common", "-n", s.ns.name]);
    const stored = parseAllDocuments(stdout)
      .map((d) => d.toJS() as KubeObject | null)
      .filter((d): d is KubeObject => d !== null);
    expect(stored).toHaveLength(2);
    for (const obj of stored) expect(obj.metadata.labels).toMatchObject({ team: "payments", ...origin("common") });

    await s.h.helmRelease("common", {
      chartRef: { kind: "HelmChart", name: "chart" },
      commonMetadata: { labels: { team: "billing" } },
      driftDetection: { mode: "warn" },
    });
    await ready("common", 2);
    const cm = await get("ConfigMap", "v1", "common-config");
    expect(cm?.metadata.labels).toMatchObject({ team: "billing", ...origin("common") });
    expect(cm?.metadata.annotations?.["example.com/owner"]).toBeUndefined();
    // Drift detection (on a pass that finds the release in sync) compares with what Helm stored, labels included.
    await s.h.client.mergePatch(
      { apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", name: "common", namespace: s.ns.name },
      { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "now" } } },
    );
    await eventually(async () => (await s.h.getHelmRelease("common"))?.status?.lastHandledReconcileAt === "now", {
      what: "requestedAt handled",
    });
    const events = await s.h.client.list<KubeObject & { reason?: string; involvedObject?: { name?: string } }>(
      { group: "", version: "v1", kind: "Event", plural: "events", namespaced: true },
      { namespace: s.ns.name },
    );
    expect(events.items.filter((e) => e.reason === "DriftDetected" && e.involvedObject?.name === "common")).toEqual([]);
  });
});
