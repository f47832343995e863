// wait / healthChecks through the reconciler against workloads that kwok runs: a Deployment that becomes
// Available makes the Kustomization Healthy; one that cannot be scheduled fails the health check within
// spec.timeout naming the Deployment, and a fixed revision recovers; once the kind is watched, the check reads the
// Deployment from the watch's cache.
import { eventually } from "@capstan/cluster/testing";
import { describe, expect, it } from "vitest";
import { readyOf } from "../testing/harness.js";
import {
  deployment,
  failedWith,
  kubeconfig,
  readyAt,
  scenario,
  untilKustomization,
  webService,
} from "../testing/scenario.js";
import type { KustomizationObject } from "./types.js";

const healthy = (k: KustomizationObject) => k.status?.conditions?.find((c) => c.type === "Healthy");

describe("Kustomization wait and healthChecks", () => {
  it("Given wait: true and a Deployment that becomes Available, should be Ready with Healthy True", async () => {
    const { h } = await scenario(kubeconfig(), "ks-wait");
    const a = await h.artifact({ "deploy.yaml": deployment() });
    await h.publish("repo", a);
    await h.kustomization("app", { targetNamespace: h.namespace, wait: true, timeout: "60s" });
    const k = await untilKustomization(h, "app", "ready", readyAt(a.revision), 90_000);
    expect(healthy(k)).toMatchObject({ status: "True", reason: "Succeeded" });
    expect(healthy(k)?.message).toMatch(/^Health check passed in /);
    const live = await h.client.get<{
      apiVersion: string;
      kind: string;
      metadata: { name: string };
      status?: { availableReplicas?: number };
    }>({ apiVersion: "apps/v1", kind: "Deployment", name: "web", namespace: h.namespace });
    expect(live?.status?.availableReplicas).toBe(1);
  });

  it("Given a Deployment that never becomes Available, should fail HealthCheckFailed naming it after the timeout, and recover on a fixed revision", async () => {
    const { ns, h } = await scenario(kubeconfig(), "ks-wait-fail");
    const bad = await h.artifact({ "deploy.yaml": deployment(1, { "capstan.dev/no-such-node": "true" }) });
    await h.publish("repo", bad);
    await h.kustomization("app", {
      targetNamespace: ns.name,
      wait: true,
      timeout: "10s",
      retryInterval: "1s",
    });
    const failed = await untilKustomization(h, "app", "health check failed", failedWith("HealthCheckFailed"));
    const message = readyOf(failed)?.message ?? "";
    expect(message).toMatch(/^health check failed after \d+(\.\d+)?s: timeout waiting for: \[/);
    expect(message).toContain(`Deployment/${ns.name}/web status: 'InProgress'`);
    expect(healthy(failed)).toMatchObject({ status: "False", reason: "HealthCheckFailed" });
    // The objects were applied; only their health failed.
    expect(failed.status?.inventory?.entries).toEqual([{ id: `${ns.name}_web_apps_Deployment`, v: "v1" }]);
    expect(failed.status?.lastAttemptedRevision).toBe(bad.revision);
    expect(failed.status?.lastAppliedRevision).toBeUndefined();

    const fixed = await h.artifact({ "deploy.yaml": deployment() });
    await h.publish("repo", fixed);
    const k = await untilKustomization(h, "app", "recovered", readyAt(fixed.revision), 90_000);
    expect(healthy(k)).toMatchObject({ status: "True", reason: "Succeeded" });
  });

  it("Given the Deployment's kind is watched, should pass the health check when the Deployment changes, not at the next poll", async () => {
    // A poll an hour away: only the watch's wake-up can make the second Kustomization Healthy within the test.
    const { h } = await scenario(kubeconfig(), "ks-wait-wake", { options: { healthIntervalMs: 3_600_000 } });
    const first = await h.artifact({ "deploy.yaml": deployment(), "svc.yaml": webService });
    await h.publish("repo", first);
    await h.kustomization("first", { targetNamespace: h.namespace });
    await untilKustomization(h, "first", "ready", readyAt(first.revision), 90_000);
    // Its inventory holds apps/Deployment: the drift watch now covers the kind.
    await eventually(() => h.kustomize.drift?.token(["apps/Deployment", "/Service"]) !== undefined, {
      what: "Deployment and Service watched",
    });

    const second = await h.artifact({
      "deploy.yaml": deployment().replaceAll("web", "api"),
      "svc.yaml": webService.replaceAll("web", "api"),
    });
    await h.publish("repo2", second);
    h.requests.reset();
    await h.kustomization("second", {
      targetNamespace: h.namespace,
      sourceRef: { kind: "GitRepository", name: "repo2" },
      wait: true,
      timeout: "10m",
    });
    const k = await untilKustomization(h, "second", "ready", readyAt(second.revision), 90_000);
    expect(healthy(k)).toMatchObject({ status: "True", reason: "Succeeded" });
    // (Capstan) The health check read the Deployment and the Service from the watch's cache (the Service, which has
    // no generation, by its resourceVersion): the apply created them without a read (their dry-runs found nothing),
    // and no health look asked the apiserver either.
    expect(h.requests.counts.get("get deployments") ?? 0).toBe(0);
    expect(h.requests.counts.get("get services") ?? 0).toBe(0);
    expect(h.requests.counts.get("apply deployments")).toBeGreaterThanOrEqual(1);
  });
});
