import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { eventually } from "@capstan/cluster/testing";
import { describe, expect, it } from "vitest";
import type { KubeObject, WatchEventType } from "../contracts.js";
import { useClusterScope } from "../testing/cluster-scope.js";
import { namespacedCrd } from "../testing/widget-crd.js";
import { type ApiError, isForbidden, isNoKindMatch } from "./errors.js";
import { KubeClient } from "./kube-client.js";
import type { RequestInfo } from "./transport.js";

const manager = "capstan-test";

describe("KubeClient against a real kube-apiserver", () => {
  const requests: RequestInfo[] = [];

  const cluster = useClusterScope("client", { onRequest: (r) => requests.push(r), listPageSize: 2 });

  const configMap = (name: string, data: Record<string, string>): KubeObject => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: cluster.ns.name },
    data,
  });

  it("Given a new object, should server-side apply it under the field manager, and a dry run should change nothing", async () => {
    const applied = await cluster.client.apply(configMap("ssa", { a: "1" }), { fieldManager: manager });
    expect(applied.data).toEqual({ a: "1" });
    const entry = (applied.metadata.managedFields as { manager: string; operation: string }[]).find(
      (f) => f.manager === manager,
    );
    expect(entry?.operation).toBe("Apply");

    const dry = await cluster.client.apply(configMap("ssa", { a: "2" }), { fieldManager: manager, dryRun: true });
    expect(dry.data).toEqual({ a: "2" });
    const after = await cluster.client.get({
      apiVersion: "v1",
      kind: "ConfigMap",
      name: "ssa",
      namespace: cluster.ns.name,
    });
    expect(after?.data).toEqual({ a: "1" });
    expect(after?.metadata.resourceVersion).toBe(applied.metadata.resourceVersion);
  });

  it("Given a field owned by another manager, should report the conflict and take it over with force", async () => {
    await cluster.client.apply(configMap("owned", { k: "mine" }), { fieldManager: "other" });
    const conflict = await cluster.client
      .apply(configMap("owned", { k: "yours" }), { fieldManager: manager })
      .catch((e) => e);
    expect((conflict as ApiError).reason).toBe("Conflict");
    expect((conflict as ApiError).message).toMatch(`apply ConfigMap/${cluster.ns.name}/owned: Conflict:`);
    const forced = await cluster.client.apply(configMap("owned", { k: "yours" }), {
      fieldManager: manager,
      force: true,
    });
    expect(forced.data).toEqual({ k: "yours" });
  });

  it("Given an invalid object, should throw an ApiError that names the object and the field", async () => {
    const deployment: KubeObject = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: cluster.ns.name },
      spec: {
        replicas: -1,
        selector: { matchLabels: { app: "web" } },
        template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "nginx" }] } },
      },
    };
    const err = (await cluster.client.apply(deployment, { fieldManager: manager }).catch((e) => e)) as ApiError;
    expect(err.status).toBe(422);
    expect(err.message).toMatch(new RegExp(`^apply Deployment/${cluster.ns.name}/web: Invalid: spec.replicas: `));
  });

  it("Given missing objects, get should return undefined and delete false; merge patch and delete should work", async () => {
    const ref = { apiVersion: "v1", kind: "ConfigMap", name: "patched", namespace: cluster.ns.name };
    expect(await cluster.client.get(ref)).toBeUndefined();
    expect(await cluster.client.delete(ref)).toBe(false);
    const created = await cluster.client.create(configMap("patched", {}), { fieldManager: manager });
    const patched = await cluster.client.mergePatch(ref, {
      metadata: { annotations: { "example.com/x": "y" }, resourceVersion: created.metadata.resourceVersion },
    });
    expect(patched.metadata.annotations).toEqual({ "example.com/x": "y" });
    // The same resourceVersion again is stale now: optimistic concurrency must refuse it.
    const stale = await cluster.client
      .mergePatch(ref, { metadata: { labels: { a: "b" }, resourceVersion: created.metadata.resourceVersion } })
      .catch((e: ApiError) => e);
    expect((stale as ApiError).reason).toBe("Conflict");
    expect(await cluster.client.delete(ref)).toBe(true);
    expect(requests).toContainEqual({ method: "GET", verb: "get", resource: "configmaps", code: 404 });
  });

  it("Given more objects than a page, should page through one snapshot and return them all", async () => {
    for (let i = 0; i < 5; i++) await cluster.client.apply(configMap(`page-${i}`, {}), { fieldManager: manager });
    const type = await cluster.client.resourceFor("v1", "ConfigMap");
    const before = requests.filter((r) => r.verb === "list").length;
    const all = await cluster.client.list(type, { namespace: cluster.ns.name, labelSelector: "" });
    const pages = requests.filter((r) => r.verb === "list").length - before;
    const names = all.items.map((i) => i.metadata.name).filter((n) => n.startsWith("page-"));
    expect(names.sort()).toEqual(["page-0", "page-1", "page-2", "page-3", "page-4"]);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(all.items.every((i) => i.kind === "ConfigMap" && i.apiVersion === "v1")).toBe(true);
    const first = await cluster.client.list(type, { namespace: cluster.ns.name, limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.continue).toBeTruthy();
  });

  it("Given a watch from a list's resourceVersion, should stream changes, metadata-only when asked", async () => {
    const type = await cluster.client.resourceFor("v1", "ConfigMap");
    const { resourceVersion } = await cluster.client.list(type, { namespace: cluster.ns.name });
    const full: [WatchEventType, KubeObject][] = [];
    const meta: [WatchEventType, KubeObject][] = [];
    let ended: Error | undefined | "running" = "running";
    const w1 = await cluster.client.watch(
      type,
      { namespace: cluster.ns.name, resourceVersion, allowWatchBookmarks: true },
      (t, o) => full.push([t, o]),
      (err) => {
        ended = err;
      },
    );
    const w2 = await cluster.client.watch(
      type,
      { namespace: cluster.ns.name, resourceVersion, metadataOnly: true },
      (t, o) => meta.push([t, o]),
      () => undefined,
    );
    try {
      await cluster.client.apply(configMap("watched", { big: "x".repeat(1000) }), { fieldManager: manager });
      await eventually(() => full.some(([, o]) => o.metadata.name === "watched"), { what: "ADDED on the watch" });
      await eventually(() => meta.some(([, o]) => o.metadata.name === "watched"), { what: "ADDED, metadata only" });
      const [type1, obj1] = full.find(([, o]) => o.metadata.name === "watched")!;
      expect(type1).toBe("ADDED");
      expect((obj1.data as Record<string, string>).big).toHaveLength(1000);
      const [, metaObj] = meta.find(([, o]) => o.metadata.name === "watched")!;
      expect(metaObj.data).toBeUndefined();
      expect(metaObj.kind).toBe("ConfigMap");
      expect(metaObj.metadata.resourceVersion).toBe(obj1.metadata.resourceVersion);
    } finally {
      w1.stop();
      w2.stop();
    }
    expect(ended).toBeUndefined();
  });

  it("Given timeoutSeconds, should end the watch cleanly when the server closes it", async () => {
    const type = await cluster.client.resourceFor("v1", "ConfigMap");
    const { resourceVersion } = await cluster.client.list(type, { namespace: cluster.ns.name, limit: 1 });
    const done = new Promise<Error | undefined>((resolve) => {
      void cluster.client.watch(
        type,
        { namespace: cluster.ns.name, resourceVersion, timeoutSeconds: 1 },
        () => undefined,
        resolve,
      );
    });
    expect(await done).toBeUndefined();
  });

  it("Given a CRD installed after the client was built, should discover it and apply status with its own manager", async () => {
    const group = `t${randomBytes(4).toString("hex")}.capstan.dev`;
    const apiVersion = `${group}/v1`;
    await expect(cluster.client.resourceFor(apiVersion, "Widget")).rejects.toSatisfy(isNoKindMatch);
    const crd = namespacedCrd({
      group,
      kind: "Widget",
      plural: "widgets",
      singular: "widget",
      spec: { size: { type: "integer" } },
      status: { ready: { type: "boolean" } },
    });
    await cluster.client.apply(crd, { fieldManager: manager });
    try {
      const type = await eventually(() => cluster.client.resourceFor(apiVersion, "Widget"), {
        what: "Widget discovered",
      });
      expect(type).toEqual({ group, version: "v1", kind: "Widget", plural: "widgets", namespaced: true });
      const widget = { apiVersion, kind: "Widget", metadata: { name: "w", namespace: cluster.ns.name } };
      await eventually(() => cluster.client.apply({ ...widget, spec: { size: 3 } }, { fieldManager: manager }), {
        what: "Widget accepted",
      });
      const withStatus = await cluster.client.applyStatus(
        { ...widget, status: { ready: true } },
        { fieldManager: "capstan-status" },
      );
      expect(withStatus.status).toEqual({ ready: true });
      const fields = withStatus.metadata.managedFields as {
        manager: string;
        operation: string;
        subresource?: string;
      }[];
      expect(fields).toContainEqual(
        expect.objectContaining({ manager: "capstan-status", operation: "Apply", subresource: "status" }),
      );
      expect(fields).toContainEqual(expect.objectContaining({ manager, operation: "Apply" }));
    } finally {
      await cluster.client.delete({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        name: `widgets.${group}`,
      });
    }
  });

  it("Given a ServiceAccount without RBAC, an impersonating client should be denied, then allowed by a RoleBinding", async () => {
    const sa = "deployer";
    await cluster.client.apply(
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: sa, namespace: cluster.ns.name } },
      { fieldManager: manager },
    );
    const asSa = cluster.client.impersonate({ user: `system:serviceaccount:${cluster.ns.name}:${sa}` });
    const ref = { apiVersion: "v1", kind: "ConfigMap", name: "ssa", namespace: cluster.ns.name };
    const denied = await asSa.get(ref).catch((e: ApiError) => e);
    expect(isForbidden(denied)).toBe(true);
    expect((denied as ApiError).message).toContain(`system:serviceaccount:${cluster.ns.name}:${sa}`);

    await cluster.client.apply(
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: { name: "read-cm", namespace: cluster.ns.name },
        rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"] }],
      },
      { fieldManager: manager },
    );
    await cluster.client.apply(
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "read-cm", namespace: cluster.ns.name },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "read-cm" },
        subjects: [{ kind: "ServiceAccount", name: sa, namespace: cluster.ns.name }],
      },
      { fieldManager: manager },
    );
    const allowed = await eventually(() => asSa.get(ref), { what: "read allowed by the RoleBinding" });
    expect(allowed.metadata.name).toBe("ssa");
  });

  it("Given a kubeconfig's content (a remote cluster's), should build a working client from it", async () => {
    const remote = KubeClient.fromKubeconfig(readFileSync(cluster.kubeconfigPath, "utf8"), { qps: 5, burst: 5 });
    try {
      const got = await remote.get({ apiVersion: "v1", kind: "Namespace", name: cluster.ns.name });
      expect(got?.metadata.uid).toBeTruthy();
    } finally {
      remote.close();
    }
  });

  it("Given the apiserver runs API Priority and Fairness, should stop limiting client-side after the first response", async () => {
    // qps 1, burst 1: with the limiter on, 50 requests would wait ~50 s for tokens.
    const paced = new KubeClient({ kubeconfigPath: cluster.kubeconfigPath, qps: 1, burst: 1 });
    const lines: string[] = [];
    paced.setLogger({ info: (_o, msg) => lines.push(msg) });
    try {
      for (let i = 0; i < 50; i++) await paced.get({ apiVersion: "v1", kind: "Namespace", name: cluster.ns.name });
      expect(paced.flowControl()).toEqual({ priorityAndFairness: true, limiterEnabled: false, throttledRequests: 0 });
      expect(lines).toEqual(["API Priority and Fairness detected: client-side rate limiting disabled"]);
    } finally {
      paced.close();
    }
  });
});
