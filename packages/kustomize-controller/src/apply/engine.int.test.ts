// The apply engine against the real kube-apiserver (with kwok running pods on a fake node).

import { randomBytes } from "node:crypto";
import { KustomizeLabels } from "@capstan/api";
import { createTestNamespace, loadKubeConfig, type TestNamespace, testKubeconfigPath } from "@capstan/cluster/testing";
import type {} from "@capstan/cluster/vitest-setup";
import { KubeClient, ReconcileError } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { waitForSet } from "../health/wait.js";
import { inventoryOf, refOfEntry, staleEntries } from "../inventory/inventory.js";
import { type KubeObject, refOf } from "../kube.js";
import { changeLog } from "./changeset.js";
import { ApplyEngine, ApplySetError } from "./engine.js";
import { kustomizeApplyOptions, pruneExclusions } from "./options.js";

const fieldManager = "kustomize-controller";

describe("ApplyEngine (apply/engine.ts) against a real kube-apiserver", () => {
  let client: KubeClient;
  let ns: TestNamespace;
  let engine: ApplyEngine;
  const opts = (force = false) => ({
    ...kustomizeApplyOptions(fieldManager, { force, timeoutMs: 30_000 }),
    waitIntervalMs: 250,
  });

  beforeAll(async () => {
    const kubeconfigPath = testKubeconfigPath(inject("capstanKubeconfig"));
    client = new KubeClient({ kubeconfigPath });
    ns = await createTestNamespace(loadKubeConfig(kubeconfigPath), "ks-apply");
    engine = new ApplyEngine({ client, fieldManager, ownerLabels: KustomizeLabels });
  });
  afterAll(async () => {
    await ns?.delete();
    client?.close();
  });

  const owned = (objects: KubeObject[]) => engine.withOwnerLabels(objects, "apps", "flux-system");
  const configMap = (name: string, data: Record<string, string>, extra: Record<string, unknown> = {}): KubeObject => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: ns.name },
    data,
    ...extra,
  });
  const deployment = (name: string, replicas: number, nodeSelector?: Record<string, string>): KubeObject => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: ns.name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name: "app", image: "nginx:1.27" }],
          tolerations: [{ key: "kwok.x-k8s.io/node", operator: "Exists", effect: "NoSchedule" }],
          ...(nodeSelector ? { nodeSelector } : {}),
        },
      },
    },
  });

  it("Given new objects, should create them, then report them unchanged without bumping resourceVersions", async () => {
    const objects = owned([configMap("first", { a: "1" }), deployment("first", 1)]);
    const created = await engine.applyAllStaged(objects, opts());
    expect(changeLog(created)).toBe(`ConfigMap/${ns.name}/first created\nDeployment/${ns.name}/first created`);
    const cm = await client.get(refOf(objects[0]!));
    const dep = await client.get(refOf(objects[1]!));
    const again = await engine.applyAllStaged(objects, opts());
    expect(again.map((e) => e.action)).toEqual(["unchanged", "unchanged"]);
    // The Deployment's status moves on its own; its generation and the ConfigMap's version must not.
    expect((await client.get(refOf(objects[0]!)))?.metadata.resourceVersion).toBe(cm?.metadata.resourceVersion);
    expect((await client.get(refOf(objects[1]!)))?.metadata.generation).toBe(dep?.metadata.generation);
  });

  it("Given a manual kubectl-style edit, should revert it and drop what kubectl added", async () => {
    const objects = owned([deployment("drift", 2)]);
    await engine.applyAllStaged(objects, opts());
    const ref = refOf(objects[0]!);
    await client.mergePatch(
      ref,
      { metadata: { annotations: { "added-by": "hand" } }, spec: { replicas: 5 } },
      { fieldManager: "kubectl-edit" },
    );
    expect(((await client.get(ref))!.spec as { replicas: number }).replicas).toBe(5);

    const result = await engine.applyAllStaged(objects, opts());
    expect(changeLog(result)).toBe(`Deployment/${ns.name}/drift configured`);
    const live = (await client.get(ref))!;
    expect((live.spec as { replicas: number }).replicas).toBe(2);
    expect(live.metadata.annotations?.["added-by"]).toBeUndefined();
    const managers = (live.metadata.managedFields as { manager: string }[]).map((m) => m.manager);
    expect(managers.some((m) => m.startsWith("kubectl"))).toBe(false);
  });

  it("Given an object removed from the set, should prune only ours, in the inventory diff", async () => {
    const v1 = owned([
      configMap("keep", { a: "1" }),
      configMap("gone", { a: "1" }),
      configMap("pinned", { a: "1" }, {}),
    ]);
    v1[2]!.metadata.annotations = { "kustomize.toolkit.fluxcd.io/prune": "disabled" };
    await engine.applyAllStaged(v1, opts());
    const foreign = configMap("foreign", { a: "1" });
    await client.apply(foreign, { fieldManager: "someone-else" });

    const previous = inventoryOf([...v1, foreign]);
    const v2 = owned([configMap("keep", { a: "1" })]);
    await engine.applyAllStaged(v2, opts());
    const stale = staleEntries(previous, inventoryOf(v2)).map(refOfEntry);
    const deleted = await engine.deleteAll(stale, {
      inclusions: engine.ownerLabels("apps", "flux-system"),
      exclusions: pruneExclusions,
    });
    expect(changeLog(deleted)).toBe(`ConfigMap/${ns.name}/gone deleted`);
    expect(await client.get(refOf(v1[1]!))).toBeUndefined();
    expect(await client.get(refOf(v1[2]!))).toBeDefined();
    expect(await client.get(refOf(foreign))).toBeDefined();
    expect(await client.get(refOf(v1[0]!))).toBeDefined();
  });

  it("Given an immutable field change, should fail without force and recreate with force", async () => {
    const v1 = owned([configMap("frozen", { a: "1" }, { immutable: true })]);
    await engine.applyAllStaged(v1, opts());
    const uid = (await client.get(refOf(v1[0]!)))?.metadata.uid;
    const v2 = owned([configMap("frozen", { a: "2" }, { immutable: true })]);

    const err = await engine.applyAllStaged(v2, opts(false)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplySetError);
    expect((err as Error).message).toMatch(new RegExp(`ConfigMap/${ns.name}/frozen dry-run failed \\(Invalid\\)`));

    const result = await engine.applyAllStaged(v2, opts(true));
    expect(result.map((e) => e.action)).toEqual(["created"]);
    const live = await client.get(refOf(v2[0]!));
    expect(live?.data).toEqual({ a: "2" });
    expect(live?.metadata.uid).not.toBe(uid);
  });

  it("Given one invalid object among valid ones, should report it by name and not hide others' errors", async () => {
    const bad1 = configMap("bad-1", { a: "1" });
    (bad1 as Record<string, unknown>).data = { "not a valid key!": "x" };
    const bad2 = deployment("bad-2", 1);
    (bad2.spec as Record<string, unknown>).selector = { matchLabels: { app: "other" } };
    const err = await engine
      .applyAllStaged(owned([bad1, configMap("fine", { a: "1" }), bad2]), opts())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplySetError);
    expect((err as ApplySetError).errors).toHaveLength(2);
    expect((err as Error).message).toContain(`ConfigMap/${ns.name}/bad-1 dry-run failed`);
    expect((err as Error).message).toContain(`Deployment/${ns.name}/bad-2 dry-run failed`);
    // The stage stopped before writing: the valid object was not created and is not reported as such.
    expect((err as ApplySetError).changeSet).toEqual([]);
    expect(await client.get(refOf(configMap("fine", { a: "1" })))).toBeUndefined();
  });

  it("Given ssa annotations, should honour IfNotPresent and reconcile: disabled", async () => {
    const [once] = owned([configMap("once", { a: "1" })]);
    once!.metadata.annotations = { "kustomize.toolkit.fluxcd.io/ssa": "IfNotPresent" };
    await engine.applyAllStaged([once!], opts());
    const changed = { ...once!, data: { a: "2" } };
    expect((await engine.applyAllStaged([changed], opts()))[0]?.action).toBe("skipped");
    expect((await client.get(refOf(once!)))?.data).toEqual({ a: "1" });

    const [off] = owned([configMap("off", { a: "1" })]);
    off!.metadata.annotations = { "kustomize.toolkit.fluxcd.io/reconcile": "disabled" };
    expect((await engine.applyAllStaged([off!], opts()))[0]?.action).toBe("skipped");
    expect(await client.get(refOf(off!))).toBeUndefined();
  });

  it("Given new objects, should dry-run and create them without reading them first; existing ones are read once", async () => {
    const counts = new Map<string, number>();
    const counting = new KubeClient({
      kubeconfigPath: testKubeconfigPath(inject("capstanKubeconfig")),
      onRequest: (r) => counts.set(`${r.verb} ${r.resource}`, (counts.get(`${r.verb} ${r.resource}`) ?? 0) + 1),
    });
    try {
      const counted = new ApplyEngine({ client: counting, fieldManager, ownerLabels: KustomizeLabels });
      const objects = owned([configMap("lean-1", { a: "1" }), configMap("lean-2", { a: "1" })]);
      const created = await counted.applyAllStaged(objects, opts());
      expect(created.map((e) => e.action)).toEqual(["created", "created"]);
      // A dry-run and an apply each, no read of objects that are not there.
      expect(counts.get("get configmaps") ?? 0).toBe(0);
      expect(counts.get("apply configmaps")).toBe(4);
      counts.clear();
      const changed = owned([configMap("lean-1", { a: "1" }), configMap("lean-2", { a: "2" })]);
      expect((await counted.applyAllStaged(changed, opts())).map((e) => e.action)).toEqual(["unchanged", "configured"]);
      // Existing objects: a dry-run and a read each, an apply for the changed one.
      expect(counts.get("get configmaps")).toBe(2);
      expect(counts.get("apply configmaps")).toBe(3);
      expect((await client.get(refOf(changed[1]!)))?.data).toEqual({ a: "2" });
    } finally {
      counting.close();
    }
  });

  it("Given a live object marked reconcile: disabled whose dry-run fails, should skip it rather than fail", async () => {
    const [held] = owned([configMap("held", { a: "1" }, { immutable: true })]);
    await engine.applyAllStaged([held!], opts());
    await client.mergePatch(refOf(held!), {
      metadata: { annotations: { "kustomize.toolkit.fluxcd.io/reconcile": "disabled" } },
    });
    // An immutable ConfigMap's data cannot change: the dry-run fails, but the live mark leaves the object alone.
    const result = await engine.applyAllStaged([{ ...held!, data: { a: "2" } }], opts());
    expect(result.map((e) => e.action)).toEqual(["skipped"]);
    expect((await client.get(refOf(held!)))?.data).toEqual({ a: "1" });
  });

  it("Given a CRD and its custom resource in one set, should apply the CRD first and wait until it is Established", async () => {
    const plural = `widgets${randomBytes(3).toString("hex")}`;
    const group = "test.capstan.dev";
    const crd: KubeObject = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: `${plural}.${group}` },
      spec: {
        group,
        scope: "Namespaced",
        names: { plural, singular: plural.slice(0, -1), kind: "Widget", listKind: "WidgetList" },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
          },
        ],
      },
    };
    const cr: KubeObject = {
      apiVersion: `${group}/v1`,
      kind: "Widget",
      metadata: { name: "w", namespace: ns.name },
      spec: { size: 1 },
    };
    try {
      const result = await engine.applyAllStaged(owned([cr, crd]), opts());
      expect(result.map((e) => `${e.subject} ${e.action}`)).toEqual([
        `CustomResourceDefinition/${plural}.${group} created`,
        `Widget/${ns.name}/w created`,
      ]);
    } finally {
      await client.delete(refOf(crd));
    }
  });

  it("Given a Deployment kwok can run, should become healthy", async () => {
    const objects = owned([deployment("healthy", 2)]);
    await engine.applyAllStaged(objects, opts());
    await waitForSet(client, objects.map(refOf), { timeoutMs: 90_000, intervalMs: 500 });
    const got = await client.get<KubeObject & { status?: { readyReplicas?: number; updatedReplicas?: number } }>(
      refOf(objects[0]!),
    );
    expect(got?.status).toMatchObject({ readyReplicas: 2, updatedReplicas: 2 });
  });

  it("Given a Deployment whose pods can never be scheduled, should time out naming it", async () => {
    const objects = owned([deployment("stuck", 1, { "capstan.dev/no-such-node": "true" })]);
    await engine.applyAllStaged(objects, opts());
    const err = await waitForSet(client, objects.map(refOf), { timeoutMs: 5_000, intervalMs: 500 }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ reason: "HealthCheckFailed" });
    expect(err).toBeInstanceOf(ReconcileError);
    expect((err as Error).message).toContain(`timeout waiting for: [Deployment/${ns.name}/stuck status: 'InProgress']`);
  });

  it("Given --concurrent-ssa 4, should write one kind's objects in parallel (at most 4), kinds in order, and report each failure", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const events: string[] = [];
    // The engine's writes (not its dry-runs) through the real client, counted.
    const counting = Object.create(client) as KubeClient;
    counting.apply = async (obj, options) => {
      if (options.dryRun) return client.apply(obj, options);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      events.push(`start ${obj.kind}`);
      try {
        return await client.apply(obj, options);
      } finally {
        inFlight--;
        events.push(`end ${obj.kind}`);
      }
    };
    const parallel = new ApplyEngine({
      client: counting,
      fieldManager,
      ownerLabels: KustomizeLabels,
      concurrency: 4,
      beforeWrite: (obj) => {
        if (obj.metadata.name === "par-5") throw new Error("refused by the test");
      },
    });
    const maps = Array.from({ length: 12 }, (_, i) => configMap(`par-${i}`, { i: String(i) }));
    const objects = owned([deployment("par", 0), ...maps]);
    const err = (await parallel.applyAllStaged(objects, opts()).catch((e) => e)) as ApplySetError;
    expect(err).toBeInstanceOf(ApplySetError);
    expect(err.errors.map((e) => e.message)).toEqual([`ConfigMap/${ns.name}/par-5 apply failed: refused by the test`]);
    expect(err.changeSet).toHaveLength(12);
    expect(err.changeSet.map((e) => e.subject)).not.toContain(`ConfigMap/${ns.name}/par-5`);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(4);
    // Every ConfigMap write ended before the Deployment's began (the kind order holds between waves).
    const deploymentStart = events.indexOf("start Deployment");
    expect(deploymentStart).toBe(events.length - 2);
    expect(events.filter((e) => e === "end ConfigMap")).toHaveLength(11);
    for (const cm of maps.filter((m) => m.metadata.name !== "par-5")) {
      expect(await client.get(refOf(cm))).toBeDefined();
    }
    expect(await client.get(refOf(maps[5]!))).toBeUndefined();
  });
});
