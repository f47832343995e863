// Drift right after an action, as Flux's atomic release (which looks at the release state again after each action):
// a chart whose post-install hook overwrites one of the release's own objects is installed, and the same pass — no
// requestedAt, no interval — reports the drift and, in mode enabled, corrects it, without a new Helm revision.
import { eventually } from "@capstan/cluster/testing";
import type { KubeObject } from "@capstan/runtime";
import { describe, expect, it } from "vitest";
import { conditionOf, demoChart, fileScenario } from "../testing/harness.js";

const s = fileScenario("helm-drift-after");

const eventType = { group: "", version: "v1", kind: "Event", plural: "events", namespaced: true };
type Ev = KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string } };

async function eventsOf(name: string, reason: string): Promise<Ev[]> {
  const { items } = await s.h.client.list<Ev>(eventType, { namespace: s.ns.name });
  return items.filter((e) => e.involvedObject?.name === name && e.reason === reason);
}

// Runs after helm applied the release and replaces its ConfigMap (hook-delete-policy before-hook-creation).
const overwritingHook = `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
  annotations:
    "helm.sh/hook": post-install
data:
  message: from-hook
`;

describe("Given a release whose post-install hook changes one of its objects", () => {
  it("should detect and correct the drift in the pass that installed it", async () => {
    await s.h.publish("chart", await s.h.chart(demoChart("1.0.0", { "templates/hook.yaml": overwritingHook })));
    await s.h.helmRelease("hooked", {
      chartRef: { kind: "HelmChart", name: "chart" },
      values: { message: "desired" },
      driftDetection: { mode: "enabled" },
    });
    const [corrected] = await eventually(
      async () => {
        const got = await eventsOf("hooked", "DriftCorrected");
        return got.length > 0 && got;
      },
      { timeoutMs: 90_000, what: "a DriftCorrected Event for hooked" },
    );
    expect(corrected?.message).toContain(`Cluster state of release ${s.ns.name}/hooked.v1 has been corrected:`);
    expect(corrected?.message).toContain(`ConfigMap/${s.ns.name}/hooked-config`);
    const [detected] = await eventsOf("hooked", "DriftDetected");
    expect(detected?.message).toContain(
      `Cluster state of release ${s.ns.name}/hooked.v1 has drifted from the desired state:`,
    );
    expect((await s.h.configMapData("hooked-config"))?.message).toBe("desired");
    const hr = await eventually(
      async () => {
        const got = await s.h.getHelmRelease("hooked");
        return conditionOf(got, "Ready")?.status === "True" && got;
      },
      { what: "hooked Ready" },
    );
    // One pass did it all: nothing asked for another, and no new revision.
    expect(hr.status?.lastHandledReconcileAt).toBeUndefined();
    expect(hr.status?.history?.map((h) => h.version)).toEqual([1]);
  });
});
