// What the cheaper release path must not change: a chart with a field Kubernetes does not know still fails its install
// (helm's client-side OpenAPI check is skipped; the cluster's strict field validation refuses it), and releases of one
// chart artifact share one download (the chart cache), with helm's forks and their CPU counted in the metrics.
import { HelmReleaseConditions, HelmReleaseReasons } from "@capstan/api";
import { eventually } from "@capstan/cluster/testing";
import { secretType } from "@capstan/runtime";
import { beforeAll, describe, expect, it } from "vitest";
import { conditionOf, demoChart, fileScenario } from "../testing/harness.js";
import { releaseFailed } from "../testing/wait.js";

const s = fileScenario("helm-perf");
const chartRef = (name: string) => ({ chartRef: { kind: "HelmChart", name } });

function metric(text: string, name: string, labels: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

beforeAll(async () => {
  await s.h.publish("shared", await s.h.chart(demoChart("1.0.0")));
  await s.h.publish(
    "unknown-field",
    await s.h.chart(
      demoChart("3.0.0", {
        "templates/bad.yaml":
          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-bad\nbogus: true\n",
      }),
    ),
  );
});

describe("Given a chart with a field its kind does not have", () => {
  it("should fail the install with the cluster's field validation, as with helm's own check", async () => {
    await s.h.helmRelease("unknown-field", chartRef("unknown-field"));
    const hr = await releaseFailed(s.h, "unknown-field", 60_000);
    const released = conditionOf(hr, HelmReleaseConditions.Released);
    expect(released?.reason).toBe(HelmReleaseReasons.InstallFailed);
    expect(released?.message).toMatch(/\.bogus: field not declared in schema/);
    expect(
      await s.h.client.get({ apiVersion: "v1", kind: "ConfigMap", name: "unknown-field-bad", namespace: s.ns.name }),
    ).toBeUndefined();
  });
});

describe("Given several HelmReleases of one chart artifact", () => {
  it("should download the chart once, release each, and count helm's forks and their CPU", async () => {
    const names = ["a", "b", "c"];
    for (const n of names) await s.h.helmRelease(n, chartRef("shared"));
    for (const n of names) {
      await eventually(async () => conditionOf(await s.h.getHelmRelease(n), "Ready")?.status === "True", {
        timeoutMs: 90_000,
        what: `${n} Ready`,
      });
      const { items } = await s.h.client.list(secretType, {
        namespace: s.ns.name,
        labelSelector: `owner=helm,name=${n}`,
      });
      expect(items).toHaveLength(1);
    }
    const text = await s.h.manager.metrics.text();
    // One download per artifact digest: the shared chart once, the bad chart of the test above once.
    expect(metric(text, "capstan_helm_chart_fetches_total", 'source="download"')).toBe(2);
    expect(metric(text, "capstan_helm_chart_fetches_total", 'source="cache"')).toBeGreaterThanOrEqual(2);
    expect(metric(text, "capstan_helm_commands_total", 'command="install",result="success"')).toBe(3);
    expect(metric(text, "capstan_helm_command_cpu_seconds_total", 'command="install"')).toBeGreaterThan(0);
  });
});
