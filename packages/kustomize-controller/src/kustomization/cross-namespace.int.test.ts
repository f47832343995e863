// --no-cross-namespace-refs: a Kustomization in tenant-a that names tenant-b's GitRepository (or a Kustomization of
// tenant-b in dependsOn) is refused with Flux's AccessDenied before anything is read or applied; without the flag the
// same reference works as before.
import { createTestNamespace, loadKubeConfig, type TestNamespace } from "@capstan/cluster/testing";
import { describe, expect, it, onTestFinished } from "vitest";
import { readyOf } from "../testing/harness.js";
import {
  configMap,
  failedWith,
  getConfigMap,
  kubeconfig,
  namespaceEvents,
  readyAt,
  scenario,
  untilKustomization,
} from "../testing/scenario.js";
import type { KustomizationObject } from "./types.js";

const stalledOf = (k: KustomizationObject) => k.status?.conditions?.find((c) => c.type === "Stalled");

async function otherTenant(): Promise<TestNamespace> {
  const ns = await createTestNamespace(loadKubeConfig(kubeconfig()), "tenant-b");
  onTestFinished(() => ns.delete());
  return ns;
}

describe("cross-namespace references", () => {
  it("Given --no-cross-namespace-refs, should refuse tenant-b's source and dependency with AccessDenied and apply nothing", async () => {
    const { ns, h } = await scenario(kubeconfig(), "tenant-a", { flags: ["--no-cross-namespace-refs=true"] });
    const b = await otherTenant();
    await h.publish("private", await h.artifact({ "cm.yaml": configMap("private", "tenant-b's") }), b.name);
    const own = await h.artifact({ "cm.yaml": configMap("own", "1") });
    await h.publish("repo", own);

    await h.kustomization("steal", {
      targetNamespace: ns.name,
      sourceRef: { kind: "GitRepository", name: "private", namespace: b.name },
    });
    await h.kustomization("waits", { targetNamespace: ns.name, dependsOn: [{ name: "anything", namespace: b.name }] });
    await h.kustomization("own", { targetNamespace: ns.name });

    const stolen = await untilKustomization(h, "steal", "refused", failedWith("AccessDenied"));
    expect(readyOf(stolen)?.message).toBe(
      `can't access 'GitRepository/${b.name}/private', cross-namespace references have been blocked`,
    );
    expect(stalledOf(stolen)).toMatchObject({ status: "True", reason: "AccessDenied" });
    const waits = await untilKustomization(h, "waits", "refused", failedWith("AccessDenied"));
    expect(readyOf(waits)?.message).toBe(
      `can't access 'Kustomization/${b.name}/anything', cross-namespace references have been blocked`,
    );
    // Same-namespace references still work, under the same flag.
    await untilKustomization(h, "own", "applied", readyAt(own.revision));
    expect(await getConfigMap(h, "private")).toBeUndefined();
    expect(stolen.status?.inventory?.entries ?? []).toEqual([]);
    const events = await namespaceEvents(h);
    expect(events.some((e) => e.reason === "AccessDenied" && e.message?.includes("cross-namespace"))).toBe(true);
  });

  it("Given no flag, should apply a source of another namespace as before", async () => {
    const { ns, h } = await scenario(kubeconfig(), "tenant-a-open");
    const b = await otherTenant();
    const a = await h.artifact({ "cm.yaml": configMap("shared", "from b") });
    await h.publish("private", a, b.name);
    await h.kustomization("shared", {
      targetNamespace: ns.name,
      sourceRef: { kind: "GitRepository", name: "private", namespace: b.name },
    });
    await untilKustomization(h, "shared", "applied", readyAt(a.revision));
    expect((await getConfigMap(h, "shared"))?.data).toEqual({ value: "from b" });
  });
});
