import { describe, expect, it } from "vitest";
import type { Client, Informer, KubeObject, ResourceType } from "../contracts.js";
import { stripManagedFields } from "../informer/index.js";
import { leaseName, Manager } from "./manager.js";
import { quietManagerOptions } from "./testing-options.js";
import type { InformerOptions } from "./types.js";

const secretType: ResourceType = { group: "", version: "v1", plural: "secrets", kind: "Secret", namespaced: true };
const widgetType: ResourceType = {
  group: "example.com",
  version: "v1",
  plural: "widgets",
  kind: "Widget",
  namespaced: true,
};

/** A manager whose informer factory records what each informer was built with (nothing is started). */
function managerWith(argv: string[]) {
  const built: { type: string; options: InformerOptions }[] = [];
  const manager = new Manager({
    ...quietManagerOptions(argv),
    informers: <T extends KubeObject>(_c: Client, type: ResourceType, options: InformerOptions) => {
      built.push({ type: type.plural, options });
      return { plural: type.plural, options } as unknown as Informer<T>;
    },
  });
  return { manager, built };
}

describe("Manager.informer and --watch-label-selector", () => {
  it("Given a shard selector / should apply it to reconciled kinds and leave it out where ignoreLabelSelector is asked", () => {
    const { manager, built } = managerWith(["--watch-label-selector=sharding.fluxcd.io/key=shard1"]);
    const widgets = manager.informer(widgetType);
    const secrets = manager.informer(secretType, { ignoreLabelSelector: true });
    expect(built).toEqual([
      {
        type: "widgets",
        options: { labelSelector: "sharding.fluxcd.io/key=shard1", transform: stripManagedFields },
      },
      { type: "secrets", options: { transform: stripManagedFields } },
    ]);
    // Shared per (kind, selector): asking again returns the same informer; the filtered one is a distinct cache.
    expect(manager.informer(secretType, { ignoreLabelSelector: true })).toBe(secrets);
    expect(manager.informer(widgetType)).toBe(widgets);
    expect(manager.informer(secretType)).not.toBe(secrets);
    expect(built).toHaveLength(3);
  });

  it("Given no selector / should share one informer whether or not ignoreLabelSelector is asked", () => {
    const { manager, built } = managerWith([]);
    expect(manager.informer(secretType, { ignoreLabelSelector: true })).toBe(manager.informer(secretType));
    expect(built).toEqual([{ type: "secrets", options: { transform: stripManagedFields } }]);
  });

  it("Given keepManagedFields / should build a distinct informer that keeps them", () => {
    const { manager, built } = managerWith([]);
    const lean = manager.informer(secretType);
    const full = manager.informer(secretType, { keepManagedFields: true });
    expect(full).not.toBe(lean);
    expect(built[1]).toEqual({ type: "secrets", options: {} });
  });
});

describe("leaseName", () => {
  it("Given no --watch-label-selector / should be Flux's <controller>-leader-election", () => {
    expect(leaseName("kustomize-controller")).toBe("kustomize-controller-leader-election");
    expect(leaseName("kustomize-controller", "")).toBe("kustomize-controller-leader-election");
  });

  it("Given shards / should give each selector its own Lease, the same one on every replica", () => {
    const a = leaseName("kustomize-controller", "sharding.fluxcd.io/key in (shard1)");
    const b = leaseName("kustomize-controller", "sharding.fluxcd.io/key in (shard2)");
    const main = leaseName("kustomize-controller", "!sharding.fluxcd.io/key");
    expect(new Set([a, b, main, leaseName("kustomize-controller")]).size).toBe(4);
    expect(leaseName("kustomize-controller", "sharding.fluxcd.io/key in (shard1)")).toBe(a);
    expect(a).toMatch(/^kustomize-controller-leader-election-[0-9a-f]{10}$/);
  });
});
