import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../kube.js";
import { formatId, inventoryOf, parseId, refOfEntry, staleEntries } from "./inventory.js";

const obj = (apiVersion: string, kind: string, name: string, namespace?: string): KubeObject => ({
  apiVersion,
  kind,
  metadata: namespace ? { name, namespace } : { name },
});

describe("inventory", () => {
  it.each([
    [obj("apps/v1", "Deployment", "web", "apps"), { id: "apps_web_apps_Deployment", v: "v1" }],
    [obj("v1", "ConfigMap", "cfg", "apps"), { id: "apps_cfg__ConfigMap", v: "v1" }],
    [obj("v1", "Namespace", "apps"), { id: "_apps__Namespace", v: "v1" }],
    [
      obj("rbac.authorization.k8s.io/v1", "ClusterRole", "system:viewer"),
      { id: "_system__viewer_rbac.authorization.k8s.io_ClusterRole", v: "v1" },
    ],
    [obj("example.com/v1beta1", "Widget", "my_widget", "ns"), { id: "ns_my_widget_example.com_Widget", v: "v1beta1" }],
  ])("Given %o, should produce Flux's entry", (o, entry) => {
    expect(inventoryOf([o]).entries).toEqual([entry]);
  });

  it("Given an id, should round-trip to a reference", () => {
    expect(refOfEntry({ id: "apps_web_apps_Deployment", v: "v1" })).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "web",
      namespace: "apps",
    });
    expect(refOfEntry({ id: "_system__viewer_rbac.authorization.k8s.io_ClusterRole", v: "v1" })).toEqual({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      name: "system:viewer",
    });
    expect(refOfEntry({ id: "_apps__Namespace", v: "v1" })).toEqual({
      apiVersion: "v1",
      kind: "Namespace",
      name: "apps",
    });
  });

  it("Given DNS names with colons, should round-trip any id", () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9.-]{0,20}[a-z0-9])?$/);
    fc.assert(
      fc.property(
        fc.option(label, { nil: "" }),
        label,
        fc.option(label, { nil: "" }),
        fc.stringMatching(/^[A-Z][a-zA-Z]{0,15}$/),
        (namespace, name, group, kind) => {
          const m = { namespace, name: name.replace(/\./g, ":"), group, kind };
          expect(parseId(formatId(m))).toEqual(m);
        },
      ),
    );
  });

  it("Given previous and current inventories, should report removed objects only", () => {
    const previous = inventoryOf([
      obj("apps/v1", "Deployment", "web", "apps"),
      obj("v1", "ConfigMap", "old", "apps"),
      obj("autoscaling/v1", "HorizontalPodAutoscaler", "web", "apps"),
    ]);
    const current = inventoryOf([
      obj("apps/v1", "Deployment", "web", "apps"),
      obj("autoscaling/v2", "HorizontalPodAutoscaler", "web", "apps"),
    ]);
    expect(staleEntries(previous, current)).toEqual([{ id: "apps_old__ConfigMap", v: "v1" }]);
    expect(staleEntries(undefined, current)).toEqual([]);
  });

  it("Given duplicates, should keep the first in apply order", () => {
    const inv = inventoryOf([
      obj("v1", "ConfigMap", "a", "n"),
      obj("v1", "Secret", "b", "n"),
      obj("v1", "ConfigMap", "a", "n"),
    ]);
    expect(inv.entries.map((e) => e.id)).toEqual(["n_a__ConfigMap", "n_b__Secret"]);
  });
});
