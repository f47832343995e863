import { describe, expect, it } from "vitest";
import type { KubeObject } from "../kube.js";
import { fmtObject } from "../object.js";
import { applyWaves, sortObjects, stageObjects } from "./sort.js";

const o = (apiVersion: string, kind: string, name: string, namespace?: string): KubeObject => ({
  apiVersion,
  kind,
  metadata: namespace ? { name, namespace } : { name },
});

const mixed = [
  o("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "hook"),
  o("apps/v1", "Deployment", "web", "apps"),
  o("example.com/v1", "Widget", "w", "apps"),
  o("v1", "Service", "web", "apps"),
  o("v1", "ConfigMap", "b", "apps"),
  o("v1", "ConfigMap", "a", "apps"),
  o("storage.k8s.io/v1", "StorageClass", "fast"),
  o("networking.k8s.io/v1", "IngressClass", "nginx"),
  o("rbac.authorization.k8s.io/v1", "ClusterRole", "reader"),
  o("v1", "Namespace", "apps"),
  o("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com"),
  o("v1", "ServiceAccount", "web", "apps"),
];

describe("apply ordering", () => {
  it("Given mixed objects, should stage cluster definitions, then *Class kinds, then the rest by kind order", () => {
    const s = stageObjects(mixed);
    expect(s.definitions.map(fmtObject)).toEqual([
      "CustomResourceDefinition/widgets.example.com",
      "Namespace/apps",
      "ClusterRole/reader",
    ]);
    expect(s.classes.map(fmtObject)).toEqual(["StorageClass/fast", "IngressClass/nginx"]);
    expect(s.resources.map(fmtObject)).toEqual([
      "ServiceAccount/apps/web",
      "ConfigMap/apps/a",
      "ConfigMap/apps/b",
      "Service/apps/web",
      "Deployment/apps/web",
      "Widget/apps/w",
      "ValidatingWebhookConfiguration/hook",
    ]);
  });

  it("Given any input order, should sort the same way", () => {
    const a = sortObjects(mixed).map(fmtObject);
    const b = sortObjects([...mixed].reverse()).map(fmtObject);
    expect(b).toEqual(a);
  });

  it("Given a sorted stage, should cut it into waves of one place in the kind order, unnamed kinds sharing one", () => {
    const waves = applyWaves(stageObjects(mixed).resources, (x) => x).map((w) => w.map(fmtObject));
    expect(waves).toEqual([
      ["ServiceAccount/apps/web"],
      ["ConfigMap/apps/a", "ConfigMap/apps/b"],
      ["Service/apps/web"],
      ["Deployment/apps/web"],
      ["Widget/apps/w"],
      ["ValidatingWebhookConfiguration/hook"],
    ]);
    expect(applyWaves([], (x: KubeObject) => x)).toEqual([]);
  });
});
