// The CRD policies helm's CLI does not have, with the real helm v4 and the real apiserver: upgrade.crds Create creates
// a chart's new CRD but leaves an existing one as it is; install.crds and upgrade.crds CreateReplace replace existing
// ones (a stale CRD made by hand before the install, a changed one on upgrade).
import { eventually } from "@capstan/cluster/testing";
import type { KubeObject } from "@capstan/runtime";
import { describe, expect, it } from "vitest";
import { conditionOf, demoChart, fileScenario } from "../testing/harness.js";

const s = fileScenario("helm-crds");

/** A CRD `<plural>.<group>` whose schema has one string property, described as `description`. */
function crd(plural: string, group: string, description: string): string {
  const kind = plural[0]?.toUpperCase() + plural.slice(1, -1);
  return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ${plural}.${group}
spec:
  group: ${group}
  scope: Namespaced
  names: {plural: ${plural}, singular: ${plural.slice(0, -1)}, kind: ${kind}, listKind: ${kind}List}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          description: ${JSON.stringify(description)}
          properties:
            spec: {type: object, properties: {size: {type: string}}}
`;
}

type Crd = KubeObject & { spec: { versions: { schema: { openAPIV3Schema: { description?: string } } }[] } };

const getCrd = (name: string) =>
  s.h.client.get<Crd>({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", name });
const descriptionOf = (c: Crd | undefined) => c?.spec.versions[0]?.schema.openAPIV3Schema.description;

function chartWith(version: string, group: string, second: boolean, description: string) {
  return demoChart(version, {
    "crds/widgets.yaml": crd("widgets", group, description),
    ...(second ? { "crds/gadgets.yaml": crd("gadgets", group, description) } : {}),
  });
}

async function readyAt(name: string, version: number): Promise<void> {
  await eventually(
    async () => {
      const hr = await s.h.getHelmRelease(name);
      return conditionOf(hr, "Ready")?.status === "True" && hr?.status?.history?.[0]?.version === version;
    },
    { timeoutMs: 50_000, what: `${name} Ready at v${version}` },
  );
}

describe("Given charts with CRDs in crds/", () => {
  it("should create a new CRD on upgrade with upgrade.crds Create, leaving the existing one as it is", async () => {
    const group = `create.${s.ns.name}.capstan.test`;
    await s.h.helmRelease("create", {
      chartRef: { kind: "HelmChart", name: "chart-create" },
      upgrade: { crds: "Create" },
    });
    await s.h.publish("chart-create", await s.h.chart(chartWith("1.0.0", group, false, "one")));
    await readyAt("create", 1);
    expect(descriptionOf(await getCrd(`widgets.${group}`))).toBe("one");
    expect(await getCrd(`gadgets.${group}`)).toBeUndefined();
    await s.h.publish("chart-create", await s.h.chart(chartWith("1.1.0", group, true, "two")));
    await readyAt("create", 2);
    expect(descriptionOf(await getCrd(`gadgets.${group}`))).toBe("two");
    expect(descriptionOf(await getCrd(`widgets.${group}`))).toBe("one");
  });

  it("should replace existing CRDs with install.crds and upgrade.crds CreateReplace", async () => {
    const group = `replace.${s.ns.name}.capstan.test`;
    // A stale CRD of the same name, made by hand before the release.
    await s.h.client.apply((await import("yaml")).parse(crd("widgets", group, "stale")) as KubeObject, {
      fieldManager: "kubectl",
    });
    await s.h.helmRelease("replace", {
      chartRef: { kind: "HelmChart", name: "chart-replace" },
      install: { crds: "CreateReplace" },
      upgrade: { crds: "CreateReplace" },
    });
    await s.h.publish("chart-replace", await s.h.chart(chartWith("1.0.0", group, false, "one")));
    await readyAt("replace", 1);
    expect(descriptionOf(await getCrd(`widgets.${group}`))).toBe("one");
    await s.h.publish("chart-replace", await s.h.chart(chartWith("1.1.0", group, true, "two")));
    await readyAt("replace", 2);
    expect(descriptionOf(await getCrd(`widgets.${group}`))).toBe("two");
    expect(descriptionOf(await getCrd(`gadgets.${group}`))).toBe("two");
  });
});
