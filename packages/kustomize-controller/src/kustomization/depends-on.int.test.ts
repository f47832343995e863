// spec.dependsOn through the reconciler: a chain A ← B ← C becomes Ready in order, a dependency on the same source
// must have applied the new revision first, and readyExpr replaces (or, gated, adds to) the built-in check.
import { kustomizationType } from "@capstan/api";
import { eventually } from "@capstan/cluster/testing";
import type { KubeObject } from "@capstan/runtime";
import { describe, expect, it, onTestFinished } from "vitest";
import type { Harness } from "../testing/harness.js";
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
import type { KustomizationObject } from "./types.js";

/**
 * Records, in the apiserver's order (one watch stream, resumed where it stopped), which Kustomizations turned
 * Ready=True at which revision. A watch on a freshly installed CRD can end while its cache initializes: resume it.
 */
async function recordReady(h: Harness): Promise<string[]> {
  const seen: string[] = [];
  const type = await h.client.resourceFor(kustomizationType.apiVersion, kustomizationType.kind);
  let from = (await eventually(() => h.client.list(type, { namespace: h.namespace }), { what: "list" }))
    .resourceVersion;
  let stopped = false;
  let current: { stop(): void } | undefined;
  const open = async (): Promise<void> => {
    current = await h.client.watch(
      type,
      { namespace: h.namespace, resourceVersion: from },
      (_type, obj: KubeObject) => {
        from = obj.metadata.resourceVersion ?? from;
        const k = obj as KustomizationObject;
        const key = `${k.metadata.name}@${k.status?.lastAppliedRevision}`;
        if (readyOf(k)?.status === "True" && !seen.includes(key)) seen.push(key);
      },
      () => {
        if (!stopped) setTimeout(() => void open().catch(() => undefined), 200);
      },
    );
  };
  await open();
  onTestFinished(() => {
    stopped = true;
    current?.stop();
  });
  return seen;
}

const gate = (h: Harness) =>
  h.client.apply(
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "gate", namespace: h.namespace } },
    { fieldManager: "test" },
  );

/**
 * Kustomization "a" (path ./a of "repo"), healthy only once the test creates ConfigMap "gate", which nothing applies,
 * and "b" (./b) depending on it. Returns the spec fields both share, for further links of the chain.
 */
async function gatedChain(h: Harness): Promise<{ targetNamespace: string; retryInterval: string }> {
  const common = { targetNamespace: h.namespace, retryInterval: "1s" };
  await h.kustomization("a", {
    ...common,
    path: "./a",
    healthChecks: [{ apiVersion: "v1", kind: "ConfigMap", name: "gate", namespace: h.namespace }],
  });
  await h.kustomization("b", { ...common, path: "./b", dependsOn: [{ name: "a" }] });
  return common;
}

const message = (k: KustomizationObject) => readyOf(k)?.message ?? "";

describe("Kustomization dependsOn", () => {
  it("Given a chain A ← B ← C, should hold B and C with DependencyNotReady until A is Ready, then become Ready in order", async () => {
    const { ns, h } = await scenario(kubeconfig(), "ks-depends");
    const order = await recordReady(h);
    const v1 = await h.artifact({
      "a/cm.yaml": configMap("a", "1"),
      "b/cm.yaml": configMap("b", "1"),
      "c/cm.yaml": configMap("c", "1"),
    });
    await h.publish("repo", v1);
    const common = await gatedChain(h);
    await h.kustomization("c", { ...common, path: "./c", dependsOn: [{ name: "b" }] });

    const b = await untilKustomization(h, "b", "waiting on a", failedWith("DependencyNotReady"));
    const c = await untilKustomization(h, "c", "waiting on b", failedWith("DependencyNotReady"));
    expect(message(b)).toContain(`dependency '${ns.name}/a' is not ready`);
    expect(message(c)).toContain(`dependency '${ns.name}/b' is not ready`);
    expect(await getConfigMap(h, "b")).toBeUndefined();
    expect(await getConfigMap(h, "c")).toBeUndefined();

    await gate(h);
    const ready = await Promise.all(
      ["a", "b", "c"].map((name) => untilKustomization(h, name, "ready at v1", readyAt(v1.revision))),
    );
    expect(order.filter((key) => key.endsWith(`@${v1.revision}`))).toEqual(
      ["a", "b", "c"].map((name) => `${name}@${v1.revision}`),
    );
    const times = ready.map((k) => Date.parse(readyOf(k)?.lastTransitionTime ?? ""));
    expect(times[0]).toBeLessThanOrEqual(times[1]!);
    expect(times[1]).toBeLessThanOrEqual(times[2]!);
    expect((await getConfigMap(h, "c"))?.data).toEqual({ value: "1" });
  });

  it("Given a new revision of the shared source, should apply it to a dependent only after its dependency applied it", async () => {
    const { ns, h } = await scenario(kubeconfig(), "ks-depends-rev");
    await gate(h);
    const tree = (v: string) => ({ "a/cm.yaml": configMap("a", v), "b/cm.yaml": configMap("b", v) });
    const v1 = await h.artifact(tree("1"));
    await h.publish("repo", v1);
    await gatedChain(h);
    await untilKustomization(h, "b", "ready at v1", readyAt(v1.revision));

    // A stays Ready at v1 while its v2 health check waits for the gate: B must not run ahead of it.
    await h.client.delete({ apiVersion: "v1", kind: "ConfigMap", name: "gate", namespace: ns.name });
    const v2 = await h.artifact(tree("2"));
    await h.publish("repo", v2);
    const waiting = await untilKustomization(h, "b", "waiting on a's revision", failedWith("DependencyNotReady"));
    expect(message(waiting)).toBe(`dependency '${ns.name}/a' revision is not up to date`);
    expect((await getConfigMap(h, "b"))?.data).toEqual({ value: "1" });

    await gate(h);
    await untilKustomization(h, "a", "ready at v2", readyAt(v2.revision));
    await untilKustomization(h, "b", "ready at v2", readyAt(v2.revision));
    expect((await getConfigMap(h, "b"))?.data).toEqual({ value: "2" });
  });

  it("Given a readyExpr, should use it instead of the dependency's Ready condition", async () => {
    const { ns, h } = await scenario(kubeconfig(), "ks-ready-expr");
    const v1 = await h.artifact({ "cm.yaml": configMap("x", "1") });
    await h.publish("repo", v1);
    // The dependency never becomes Ready: its source does not exist.
    await h.kustomization("dep", { sourceRef: { kind: "GitRepository", name: "missing" }, path: "./lockstep" });
    await h.kustomization("follows-expr", {
      targetNamespace: ns.name,
      dependsOn: [{ name: "dep", readyExpr: "dep.spec.path == './lockstep'" }],
    });
    await h.kustomization("expr-false", {
      targetNamespace: ns.name,
      retryInterval: "1s",
      dependsOn: [{ name: "dep", readyExpr: "dep.spec.path == './other'" }],
    });
    await h.kustomization("expr-error", {
      targetNamespace: ns.name,
      retryInterval: "1s",
      dependsOn: [{ name: "dep", readyExpr: "dep.status.nothing == 'x'" }],
    });
    await h.kustomization("expr-invalid", {
      targetNamespace: ns.name,
      dependsOn: [{ name: "dep", readyExpr: "dep.spec.path ==" }],
    });

    await untilKustomization(h, "follows-expr", "applied despite dep not Ready", readyAt(v1.revision));
    const dep = await h.getKustomization("dep");
    expect(readyOf(dep)?.status).not.toBe("True");
    const f = await untilKustomization(h, "expr-false", "readyExpr false", failedWith("DependencyNotReady"));
    expect(message(f)).toBe(`dependency '${ns.name}/dep' is not ready according to readyExpr eval`);
    const e = await untilKustomization(h, "expr-error", "readyExpr error", failedWith("DependencyNotReady"));
    expect(message(e)).toContain(`dependency '${ns.name}/dep' is not ready according to readyExpr eval: `);
    const i = await untilKustomization(h, "expr-invalid", "stalled", failedWith("InvalidCELExpression"));
    expect(i.status?.conditions?.find((c) => c.type === "Stalled")?.status).toBe("True");
    expect(message(i)).toContain("invalid readyExpr 'dep.spec.path =='");
  });

  it("Given the AdditiveCELDependencyCheck gate, should require the readyExpr and the dependency's Ready condition", async () => {
    const { ns, h } = await scenario(kubeconfig(), "ks-ready-expr-add", {
      flags: ["--feature-gates=AdditiveCELDependencyCheck=true"],
    });
    const v1 = await h.artifact({ "cm.yaml": configMap("x", "1") });
    await h.publish("repo", v1);
    await h.kustomization("dep", {
      sourceRef: { kind: "GitRepository", name: "dep-src" },
      path: "./lockstep",
      targetNamespace: ns.name,
    });
    await h.kustomization("follower", {
      targetNamespace: ns.name,
      retryInterval: "1s",
      dependsOn: [{ name: "dep", readyExpr: "dep.spec.path == './lockstep'" }],
    });
    const waiting = await untilKustomization(h, "follower", "waiting on Ready", failedWith("DependencyNotReady"));
    expect(message(waiting)).toContain(`dependency '${ns.name}/dep' is not ready`);
    expect(await getConfigMap(h, "x")).toBeUndefined();

    await h.publish("dep-src", await h.artifact({ "lockstep/cm.yaml": configMap("d", "1") }));
    await untilKustomization(h, "follower", "applied", readyAt(v1.revision));
  });

  it("Given a --requeue-dependency of 10 minutes, should wake a waiting dependent the moment its dependency turns Ready", async () => {
    const { ns, h } = await scenario(kubeconfig(), "ks-depends-wake", { options: { requeueDependencyMs: 600_000 } });
    const v1 = await h.artifact({ "a/cm.yaml": configMap("a", "1"), "b/cm.yaml": configMap("b", "1") });
    await h.publish("repo", v1);
    await gatedChain(h);
    const waiting = await untilKustomization(h, "b", "waiting on a", failedWith("DependencyNotReady"));
    expect(message(waiting)).toContain(`dependency '${ns.name}/a' is not ready`);
    await gate(h);
    // Without the dependency watch, b would next look at a only after 10 minutes.
    await untilKustomization(h, "a", "ready at v1", readyAt(v1.revision));
    await untilKustomization(h, "b", "ready at v1", readyAt(v1.revision));
    expect((await getConfigMap(h, "b"))?.data).toEqual({ value: "1" });
  });
});
