// What a user sees when the repository holds something the cluster cannot take: YAML that does not parse, a kind
// whose CRD is not installed, a namespace that does not exist. Each names the object at fault, one bad object does
// not hide another's error, and a failed build or apply never prunes what the last good revision applied.
import { describe, expect, it } from "vitest";
import { readyOf } from "../testing/harness.js";
import {
  configMap,
  failedWith,
  getConfigMap,
  kubeconfig,
  readyAt,
  scenario,
  untilKustomization,
} from "../testing/scenario.js";

const inNamespace = (name: string, namespace: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\ndata:\n  value: "1"\n`;
const widget = (namespace: string) =>
  `apiVersion: example.capstan.dev/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: ${namespace}\nspec:\n  size: 1\n`;

describe("Kustomization errors from the repository", () => {
  it("Given invalid YAML in Git, should fail BuildFailed naming the file and keep what the last revision applied", async () => {
    const { ns, h } = await scenario(kubeconfig(), "ks-bad-yaml");
    const v1 = await h.artifact({ "keep.yaml": inNamespace("keep", ns.name) });
    await h.publish("repo", v1);
    await h.kustomization("app", {});
    await untilKustomization(h, "app", "v1 applied", readyAt(v1.revision));

    const v2 = await h.artifact({
      "good.yaml": inNamespace("good", ns.name),
      "bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata: [unclosed\n",
    });
    await h.publish("repo", v2);
    const k = await untilKustomization(h, "app", "build failed", failedWith("BuildFailed"));
    expect(readyOf(k)?.message).toContain("bad.yaml");
    expect(k.status?.lastAttemptedRevision).toBe(v2.revision);
    expect(k.status?.lastAppliedRevision).toBe(v1.revision);
    expect(await getConfigMap(h, "keep")).toBeDefined();
    expect(await getConfigMap(h, "good")).toBeUndefined();
  });

  it("Given a kind without CRD and a missing namespace among good objects, should name both and prune nothing", async () => {
    const { ns, h } = await scenario(kubeconfig(), "ks-apply-errors");
    const v1 = await h.artifact({ "keep.yaml": inNamespace("keep", ns.name) });
    await h.publish("repo", v1);
    await h.kustomization("app", { retryInterval: "1s" });
    await untilKustomization(h, "app", "v1 applied", readyAt(v1.revision));

    const missingNs = `${ns.name}-absent`;
    const v2 = await h.artifact({
      "good.yaml": inNamespace("good", ns.name),
      "widget.yaml": widget(ns.name),
      "lost.yaml": inNamespace("lost", missingNs),
    });
    await h.publish("repo", v2);
    const k = await untilKustomization(
      h,
      "app",
      "apply failed",
      (o) => failedWith("ReconciliationFailed")(o) && o.status?.lastAttemptedRevision === v2.revision,
    );
    const message = readyOf(k)?.message ?? "";
    expect(message).toContain(`Widget/${ns.name}/w`);
    expect(message).toMatch(/no kind Widget|no matches for kind/);
    expect(message).toContain(`ConfigMap/${missingNs}/lost`);
    expect(message).toContain(`namespaces "${missingNs}" not found`);
    // The apply stopped before any write: the good object was not created, and the message does not say it was.
    expect(message).not.toContain(`ConfigMap/${ns.name}/good`);
    expect(await getConfigMap(h, "good")).toBeUndefined();
    // Nothing pruned: keep is still there and still in the inventory.
    expect(await getConfigMap(h, "keep")).toBeDefined();
    expect(k.status?.inventory?.entries).toEqual([{ id: `${ns.name}_keep__ConfigMap`, v: "v1" }]);
    expect(k.status?.lastAppliedRevision).toBe(v1.revision);

    // Fixed in a new revision: the set applies and keep, no longer in Git, is pruned.
    const v3 = await h.artifact({ "good.yaml": inNamespace("good", ns.name), "other.yaml": configMap("other", "1") });
    await h.publish("repo", v3);
    await h.kustomization("app", { retryInterval: "1s", targetNamespace: ns.name });
    await untilKustomization(h, "app", "v3 applied", readyAt(v3.revision));
    expect(await getConfigMap(h, "good")).toBeDefined();
    expect(await getConfigMap(h, "other")).toBeDefined();
    expect(await getConfigMap(h, "keep")).toBeUndefined();
  });
});
