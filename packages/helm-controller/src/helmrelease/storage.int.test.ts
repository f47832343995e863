// spec.storageNamespace apart from the release namespace, with the real helm v4: the release's records (Helm's
// Secrets) live in the storage namespace, where the real `helm ls`/`helm history` find them, while its objects go to
// the release namespace; changing storageNamespace uninstalls the release stored under the old one and installs anew,
// as Flux does.
import { type KubeObject, secretType } from "@capstan/runtime";
import { describe, expect, it } from "vitest";
import { demoChart, extraNamespace, fileScenario } from "../testing/harness.js";
import { readyAt } from "../testing/wait.js";

const s = fileScenario("helm-storage");
const store = extraNamespace("helm-store");

async function records(namespace: string): Promise<string[]> {
  const { items } = await s.h.client.list<KubeObject>(secretType, { namespace, labelSelector: "owner=helm,name=app" });
  return items.map((i) => i.metadata.name).sort();
}

const ready = (version: number, storageNamespace: string) =>
  readyAt(s.h, "app", version, (hr) => hr.status?.storageNamespace === storageNamespace);

describe("Given a HelmRelease whose storageNamespace differs from its release namespace", () => {
  it("should store the release in the storage namespace and put its objects in the release namespace", async () => {
    await s.h.publish("chart", await s.h.chart(demoChart("1.0.0")));
    await s.h.helmRelease("app", {
      chartRef: { kind: "HelmChart", name: "chart" },
      storageNamespace: store.name,
      values: { message: "one" },
    });
    const hr = await ready(1, store.name);
    expect(hr.status?.history?.[0]).toMatchObject({ name: "app", namespace: s.ns.name, status: "deployed" });
    expect(await records(store.name)).toEqual(["sh.helm.release.v1.app.v1"]);
    expect(await records(s.ns.name)).toEqual([]);
    expect((await s.h.configMapData("app-config"))?.message).toBe("one");
    const { stdout } = await s.h.runHelm(["ls", "-n", store.name, "-o", "json"]);
    expect(JSON.parse(stdout)).toMatchObject([
      { name: "app", namespace: s.ns.name, revision: "1", status: "deployed" },
    ]);
  });

  it("should upgrade it there: helm history in the storage namespace shows v2, nothing left in the release namespace", async () => {
    await s.h.helmRelease("app", {
      chartRef: { kind: "HelmChart", name: "chart" },
      storageNamespace: store.name,
      values: { message: "two" },
    });
    await ready(2, store.name);
    expect(await records(store.name)).toEqual(["sh.helm.release.v1.app.v1", "sh.helm.release.v1.app.v2"]);
    expect(await records(s.ns.name)).toEqual([]);
    const { stdout } = await s.h.runHelm(["history", "app", "-n", store.name, "-o", "json"]);
    expect(
      (JSON.parse(stdout) as { revision: number; status: string }[]).map((r) => `${r.revision} ${r.status}`),
    ).toEqual(["1 superseded", "2 deployed"]);
  });

  it("should uninstall the release from the old storage namespace and install it anew when storageNamespace changes", async () => {
    await s.h.helmRelease("app", { chartRef: { kind: "HelmChart", name: "chart" }, values: { message: "three" } });
    const hr = await ready(1, s.ns.name);
    expect(hr.status?.history).toHaveLength(1);
    expect(await records(store.name)).toEqual([]);
    expect(await records(s.ns.name)).toEqual(["sh.helm.release.v1.app.v1"]);
    const { stdout } = await s.h.runHelm(["ls", "-n", store.name, "-o", "json"]);
    expect(JSON.parse(stdout)).toEqual([]);
    expect((await s.h.configMapData("app-config"))?.message).toBe("three");
  });
});

describe("Given a HelmRelease with targetNamespace and no storageNamespace", () => {
  // Flux's default: the release is stored in the HelmRelease's namespace, so a release Flux made is found where Flux
  // stored it (not uninstalled as a changed target) and `helm ls -n <HelmRelease's namespace>` lists it.
  it("should store the release in the HelmRelease's namespace and put its objects in the target namespace", async () => {
    await s.h.helmRelease("flux", {
      chartRef: { kind: "HelmChart", name: "chart" },
      targetNamespace: store.name,
      releaseName: "web-flux",
      values: { message: "default storage" },
    });
    const hr = await readyAt(s.h, "flux", 1, (o) => o.status?.storageNamespace === s.ns.name);
    expect(hr.status?.history?.[0]).toMatchObject({ name: "web-flux", namespace: store.name, status: "deployed" });
    const stored = async (namespace: string) =>
      (
        await s.h.client.list<KubeObject>(secretType, { namespace, labelSelector: "owner=helm,name=web-flux" })
      ).items.map((i) => i.metadata.name);
    expect(await stored(s.ns.name)).toEqual(["sh.helm.release.v1.web-flux.v1"]);
    expect(await stored(store.name)).toEqual([]);
    const { stdout } = await s.h.runHelm(["ls", "-n", s.ns.name, "-o", "json"]);
    expect(JSON.parse(stdout)).toContainEqual(
      expect.objectContaining({ name: "web-flux", namespace: store.name, status: "deployed" }),
    );
  });
});
