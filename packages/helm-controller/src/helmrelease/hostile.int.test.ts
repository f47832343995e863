// Hostile chart output with the real helm v4: a chart whose templates render more bytes than --max-manifest-size, or
// more objects than --max-manifest-objects (caps set low here), fails its install with a clear reason before anything
// is applied or stored, while the same controller keeps releasing other charts.
import { HelmReleaseConditions, HelmReleaseReasons } from "@capstan/api";
import { eventually } from "@capstan/cluster/testing";
import { type KubeObject, secretType } from "@capstan/runtime";
import { describe, expect, it } from "vitest";
import { conditionOf, demoChart, fileScenario } from "../testing/harness.js";
import { readyAt } from "../testing/wait.js";

const s = fileScenario("helm-hostile", ["--max-manifest-size=262144", "--max-manifest-objects=50"]);

// One ConfigMap of ~1 MiB: `repeat` makes the bytes inside helm, the post-renderer refuses them.
const hugeTemplate = `apiVersion: v1
kind: ConfigMap
metadata:
  name: huge
data:
  blob: {{ repeat 1048576 "x" | quote }}
`;

// 200 small ConfigMaps from one range.
const manyTemplate = `{{- range until 200 }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: many-{{ . }}
data: {}
{{- end }}
`;

async function failedInstall(name: string) {
  return eventually(
    async () => {
      const hr = await s.h.getHelmRelease(name);
      return conditionOf(hr, HelmReleaseConditions.Released)?.reason === HelmReleaseReasons.InstallFailed && hr;
    },
    { timeoutMs: 90_000, what: `${name} InstallFailed` },
  );
}

async function configMapNames(): Promise<string[]> {
  const { items } = await s.h.client.list<KubeObject>(
    { group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true },
    { namespace: s.ns.name },
  );
  return items.map((i) => i.metadata.name);
}

describe("Given charts whose rendered output is over the caps", () => {
  it("should fail the install saying which cap, apply and store nothing, and keep serving other releases", async () => {
    await s.h.publish("huge", await s.h.chart(demoChart("1.0.0", { "templates/huge.yaml": hugeTemplate })));
    await s.h.publish("many", await s.h.chart(demoChart("1.0.0", { "templates/many.yaml": manyTemplate })));
    await s.h.publish("fine", await s.h.chart(demoChart("1.0.0")));
    await s.h.helmRelease("huge", { chartRef: { kind: "HelmChart", name: "huge" } });
    await s.h.helmRelease("many", { chartRef: { kind: "HelmChart", name: "many" } });
    await s.h.helmRelease("fine", { chartRef: { kind: "HelmChart", name: "fine" } });

    const huge = await failedInstall("huge");
    expect(conditionOf(huge, HelmReleaseConditions.Released)?.message).toContain(
      "rendered manifests larger than 262144 bytes (--max-manifest-size)",
    );
    expect(conditionOf(huge, "Ready")?.status).toBe("False");
    const many = await failedInstall("many");
    expect(conditionOf(many, HelmReleaseConditions.Released)?.message).toContain(
      "rendered manifests hold more than 50 objects (--max-manifest-objects)",
    );

    await readyAt(s.h, "fine", 1);
    const names = await configMapNames();
    expect(names).toContain("fine-config");
    // Nothing of the refused releases reached the cluster: not their objects, not a release record.
    expect(
      names.filter((n) => n === "huge" || n.startsWith("many-") || n.startsWith("huge-") || n === "many-config"),
    ).toEqual([]);
    const { items } = await s.h.client.list<KubeObject>(secretType, {
      namespace: s.ns.name,
      labelSelector: "owner=helm",
    });
    expect(items.map((i) => i.metadata.labels?.name).sort()).toEqual(["fine"]);
  });
});
