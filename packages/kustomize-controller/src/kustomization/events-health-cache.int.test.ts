// What users and other controllers see around a reconcile: core/v1 Events with Flux's change-set message and
// revision annotation, healthChecks entries without apiVersion, and the artifact cache dropping old revisions.
import { readdir } from "node:fs/promises";
import { kustomizationType } from "@capstan/api";
import { eventually } from "@capstan/cluster/testing";
import type { KubeObject } from "@capstan/runtime";
import { describe, expect, it } from "vitest";
import {
  configMap as cm,
  deployment,
  fileScenario,
  ownSource,
  readyAt,
  untilKustomization,
} from "../testing/scenario.js";

const s = fileScenario("ks-events", { options: { cacheCollectDelayMs: 100 } });

const eventType = { group: "", version: "v1", kind: "Event", plural: "events", namespaced: true };

async function eventsOf(name: string) {
  const { items } = await s.h.client.list<KubeObject & { message?: string; reason?: string; type?: string }>(
    eventType,
    {
      namespace: s.ns.name,
      fieldSelector: `involvedObject.name=${name},involvedObject.kind=Kustomization`,
    },
  );
  return items;
}

const applied = (name: string, revision: string) =>
  untilKustomization(s.h, name, `${name} at ${revision}`, readyAt(revision));

describe("Kustomization events, health checks and artifact cache", () => {
  it("Given an apply that changed objects, should record a core/v1 Event listing them, annotated with the revision", async () => {
    const { ns, h } = s;
    const a = await ownSource(h, "events", { "a.yaml": cm("a", "1"), "b.yaml": cm("b", "1") });
    await applied("events", a.revision);
    const event = await eventually(
      async () => (await eventsOf("events")).find((e) => e.message?.includes(`ConfigMap/${ns.name}/a created`)),
      { what: "change-set Event" },
    );
    expect(event.message).toBe(`ConfigMap/${ns.name}/a created\nConfigMap/${ns.name}/b created`);
    expect(event).toMatchObject({ type: "Normal", reason: "Progressing" });
    expect(event.metadata.annotations).toEqual({ "kustomize.toolkit.fluxcd.io/revision": a.revision });
    expect(event.source).toMatchObject({ component: "kustomize-controller" });
  });

  it('Given a reconcile that changed nothing, should still record Flux\'s "Reconciliation finished" Event, as after the first', async () => {
    const { ns, h } = s;
    const a = await ownSource(h, "finished", { "a.yaml": cm("finished-a", "1") }, { interval: "10m" });
    await applied("finished", a.revision);
    const finished = async () =>
      (await eventsOf("finished")).filter((e) => e.message?.startsWith("Reconciliation finished in "));
    await eventually(async () => (await finished()).length === 1, { what: "the first pass's Event" });
    // A reconcile request (as `flux reconcile ks` makes) with nothing to apply: Flux emits the Event again.
    const token = "finished-again";
    await h.client.mergePatch(
      { apiVersion: kustomizationType.apiVersion, kind: "Kustomization", name: "finished", namespace: ns.name },
      { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": token } } },
    );
    await untilKustomization(h, "finished", "the request handled", (k) => k.status?.lastHandledReconcileAt === token);
    const both = await eventually(
      async () => {
        const events = await finished();
        return events.length === 2 && events;
      },
      { what: "the second pass's Event" },
    );
    for (const event of both) {
      expect(event).toMatchObject({ type: "Normal", reason: "ReconciliationSucceeded" });
      expect(event.message).toMatch(/^Reconciliation finished in [0-9.]+(µs|ms|s), next run in 10m0s$/);
      expect(event.metadata.annotations).toEqual({
        "kustomize.toolkit.fluxcd.io/revision": a.revision,
        "kustomize.toolkit.fluxcd.io/commit_status": "update",
      });
    }
  });

  it("Given a healthChecks entry without apiVersion, should check it as a Deployment of the apps group", async () => {
    const { ns, h } = s;
    const a = await ownSource(
      h,
      "health",
      { "deploy.yaml": deployment(0) },
      { healthChecks: [{ kind: "Deployment", name: "web", namespace: ns.name }] },
    );
    const k = await applied("health", a.revision);
    expect(k.status?.conditions?.find((c) => c.type === "Healthy")).toMatchObject({
      status: "True",
      reason: "Succeeded",
    });
    const passed = await eventually(
      async () => (await eventsOf("health")).find((e) => e.message?.startsWith("Health check passed")),
      { what: "health Event" },
    );
    expect(passed.metadata.annotations?.["kustomize.toolkit.fluxcd.io/revision"]).toBe(a.revision);
  });

  it("Given a new revision, should drop the previous artifact from the cache and keep the current one", async () => {
    const { h } = s;
    // Another Kustomization of its own, whose artifact is still referenced after gc's new revision.
    const other = await ownSource(h, "gc-other", { "gc-other.yaml": cm("gc-other", "1") });
    await applied("gc-other", other.revision);
    const v1 = await ownSource(h, "gc", { "gc.yaml": cm("gc", "1") });
    await applied("gc", v1.revision);
    const dirOf = (digest: string) => digest.replace(":", "-");
    expect(await readdir(h.cacheDir)).toContain(dirOf(v1.digest));

    const v2 = await h.artifact({ "gc.yaml": cm("gc", "2") });
    await h.publish("gc-repo", v2);
    await applied("gc", v2.revision);
    const entries = await eventually(
      async () => {
        const list = await readdir(h.cacheDir);
        return !list.includes(dirOf(v1.digest)) && list;
      },
      { what: "v1 evicted" },
    );
    expect(entries).toContain(dirOf(v2.digest));
    // The other Kustomization's source is still referenced: its artifact stays.
    expect(entries).toContain(dirOf(other.digest));
  });
});
