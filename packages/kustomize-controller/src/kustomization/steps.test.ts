// The Kustomization steps one at a time, against the runtime's in-memory client: what each hands on, the conditions,
// Events and status it leaves, and what the end of the pass records. The *.int.test.ts files beside this one run
// the same steps through the real apiserver and kustomize.
import { gitRepositoryType, KustomizeLabels, kustomizationType } from "@capstan/api";
import {
  getCondition,
  type ReconcileContext,
  ReconcileError,
  type Client as RuntimeClient,
  WaitingError,
} from "@capstan/runtime";
import { MemoryClient, memoryContext } from "@capstan/runtime/testing";
import { describe, expect, it } from "vitest";
import { ApplyEngine } from "../apply/engine.js";
import { appliedOrder } from "../apply/sort.js";
import type { ArtifactFetcher } from "../fetch/fetcher.js";
import { inventoryOf } from "../inventory/inventory.js";
import type { KubeObject } from "../kube.js";
import { ClientProvider, type ImpersonatingClient } from "./clients.js";
import { Progress } from "./progress.js";
import {
  apply,
  checkDependencies,
  checkHealth,
  endOfPass,
  finish,
  impersonate,
  prune,
  resolveSource,
  type StepDeps,
} from "./steps.js";
import type { KustomizationObject, State } from "./types.js";

const ns = "apps";
const revision = "main@sha1:0123456789abcdef0123456789abcdef01234567";
const artifact = { url: "http://artifacts.invalid/a.tar.gz", digest: "sha256:abc", revision };

function kustomization(spec: Partial<KustomizationObject["spec"]> = {}): KustomizationObject {
  return {
    apiVersion: kustomizationType.apiVersion,
    kind: kustomizationType.kind,
    metadata: { name: "app", namespace: ns, generation: 1, uid: "uid-app" },
    spec: { interval: "10m", prune: true, sourceRef: { kind: "GitRepository", name: "repo" }, ...spec },
  };
}

const configMap = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: ns, labels },
  data: { k: name },
});

const owned = (name: string) => configMap(name, { [KustomizeLabels.Name]: "app", [KustomizeLabels.Namespace]: ns });

/** A MemoryClient that is also an ImpersonatingClient, recording who it was asked to be. */
function memoryClient(): MemoryClient & ImpersonatingClient & { impersonated: string[] } {
  const client = new MemoryClient([kustomizationType, gitRepositoryType]);
  const impersonated: string[] = [];
  return Object.assign(client, {
    impersonated,
    impersonate(who: { user: string }): RuntimeClient {
      impersonated.push(who.user);
      return client;
    },
  });
}

function setup(obj = kustomization()) {
  const client = memoryClient();
  client.seed(obj);
  const deps: StepDeps = {
    // The steps under test never fetch or build: the build step has int tests of its own (render/).
    fetcher: {} as ArtifactFetcher,
    kustomizeBinary: "kustomize",
    clients: new ClientProvider({ root: client, fromKubeconfig: () => client }),
    newApplyEngine: (c) =>
      new ApplyEngine({ client: c, fieldManager: "kustomize-controller", ownerLabels: KustomizeLabels }),
    fieldManager: "kustomize-controller",
    requeueDependencyMs: 30_000,
    healthIntervalMs: 10,
    progressDelayMs: 60_000,
  };
  const ctx = memoryContext(client, { fieldManager: "gotk-kustomize-controller" });
  const state: State = { started: Date.now() };
  return { client, deps, ctx, state, obj: structuredClone(obj) };
}

/** State as the build step leaves it: the source, the client and engine, the rendered set. */
function built(s: ReturnType<typeof setup>, objects: KubeObject[]) {
  s.state.source = artifact;
  s.state.client = s.client;
  s.state.engine = s.deps.newApplyEngine(s.client, `${ns}/app`);
  s.state.progress = new Progress(s.ctx, s.obj, { delayMs: 60_000, started: s.state.started, timeoutMs: 60_000 });
  // Sorted as the build step sorts: every later step reads the set in apply order.
  s.state.rendered = {
    objects: appliedOrder(s.state.engine.withOwnerLabels(objects, "app", ns)),
    digest: "sha256:set",
  };
}

const run = (
  step: (ctx: ReconcileContext, obj: KustomizationObject, state: State) => Promise<unknown>,
  s: ReturnType<typeof setup>,
) => step(s.ctx, s.obj, s.state);

describe("Kustomization steps", () => {
  it("Given a GitRepository with an artifact / resolve source should hand its revision on", async () => {
    const s = setup();
    s.client.seed({
      apiVersion: gitRepositoryType.apiVersion,
      kind: gitRepositoryType.kind,
      metadata: { name: "repo", namespace: ns },
      spec: { url: "https://git.invalid/repo", interval: "1m" },
      status: { artifact: { ...artifact, path: "a.tar.gz", lastUpdateTime: "2026-01-01T00:00:00Z" } },
    });
    await run(resolveSource(s.deps), s);
    expect(s.state.source).toEqual(artifact);
  });

  it("Given a dependency not yet reconciled / check dependencies should wait with DependencyNotReady", async () => {
    const s = setup(kustomization({ dependsOn: [{ name: "base" }] }));
    s.client.seed({ ...kustomization(), metadata: { name: "base", namespace: ns, generation: 2 }, status: {} });
    s.state.source = artifact;
    const err = await run(checkDependencies(s.deps), s).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitingError);
    expect(err).toMatchObject({
      reason: "DependencyNotReady",
      message: `dependency '${ns}/base' is not ready: generation not yet reconciled`,
    });
  });

  it("Given no source resolved / a later step should say the steps ran out of order, not assert it away", async () => {
    const s = setup();
    await expect(run(checkDependencies(s.deps), s)).rejects.toThrow("kustomization steps out of order: source");
  });

  it("Given spec.serviceAccountName / impersonate should act as that ServiceAccount", async () => {
    const s = setup(kustomization({ serviceAccountName: "deployer" }));
    await run(impersonate(s.deps), s);
    expect(s.client.impersonated).toEqual([`system:serviceaccount:${ns}:deployer`]);
    expect(s.state.client).toBeDefined();
    expect(s.state.engine).toBeInstanceOf(ApplyEngine);
  });

  it("Given new objects / apply should record the inventory before the first write, then create them with an Event", async () => {
    const s = setup();
    built(s, [configMap("b"), configMap("a")]);
    await run(apply(s.deps), s);
    expect(s.state.applied?.changeSet.map((e) => `${e.subject} ${e.action}`)).toEqual([
      `ConfigMap/${ns}/a created`,
      `ConfigMap/${ns}/b created`,
    ]);
    // Two dry-runs, then the status write (the union inventory), then the two writes: a crash at any write finds
    // every object that may exist on record.
    expect(s.client.writes.map((w) => `${w.verb} ${w.key.split("|")[1]}`)).toEqual([
      "apply ConfigMap",
      "apply ConfigMap",
      "applyStatus Kustomization",
      "apply ConfigMap",
      "apply ConfigMap",
    ]);
    expect(s.client.peek({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "a" })).toBeDefined();
    const recorded = s.client.peek<KustomizationObject>({
      apiVersion: kustomizationType.apiVersion,
      kind: kustomizationType.kind,
      namespace: ns,
      name: "app",
    });
    expect(recorded?.status?.inventory?.entries.map((e) => e.id)).toEqual([`${ns}_a__ConfigMap`, `${ns}_b__ConfigMap`]);
    expect(s.ctx.events.events).toEqual([
      expect.objectContaining({
        type: "Normal",
        reason: "Progressing",
        message: `ConfigMap/${ns}/a created\nConfigMap/${ns}/b created`,
        annotations: { "kustomize.toolkit.fluxcd.io/revision": revision },
      }),
    ]);
  });

  it("Given an object that left the source / prune should delete it if ours and then record the new inventory", async () => {
    const s = setup();
    s.client.seed(owned("stale"), configMap("foreign"));
    built(s, [configMap("kept")]);
    s.obj.status = { inventory: inventoryOf([owned("kept"), owned("stale"), configMap("foreign")]) };
    s.state.applied = {
      changeSet: [{ subject: `ConfigMap/${ns}/kept`, action: "unchanged", object: owned("kept"), version: "v1" }],
    };
    await run(prune, s);
    expect(s.client.peek({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "stale" })).toBeUndefined();
    // Not carrying our owner labels: not ours to delete.
    expect(s.client.peek({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "foreign" })).toBeDefined();
    expect(s.obj.status?.inventory?.entries.map((e) => e.id)).toEqual([`${ns}_kept__ConfigMap`]);
    expect(s.ctx.events.events.map((e) => e.message)).toEqual([`ConfigMap/${ns}/stale deleted`]);
  });

  it("Given a deletion that fails / prune should fail PruneFailed and keep the stale entries on record", async () => {
    const s = setup();
    s.client.seed(owned("stale"));
    built(s, [configMap("kept")]);
    s.obj.status = { inventory: inventoryOf([owned("kept"), owned("stale")]) };
    s.state.applied = {
      changeSet: [{ subject: `ConfigMap/${ns}/kept`, action: "unchanged", object: owned("kept"), version: "v1" }],
    };
    s.client.delete = async () => {
      throw new Error("forbidden");
    };
    const err = await run(prune, s).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReconcileError);
    expect(err).toMatchObject({ reason: "PruneFailed" });
    expect((err as Error).message).toContain(`ConfigMap/${ns}/stale deletion failed: forbidden`);
    expect(s.obj.status?.inventory?.entries.map((e) => e.id)).toEqual([
      `${ns}_kept__ConfigMap`,
      `${ns}_stale__ConfigMap`,
    ]);
  });

  it("Given neither wait nor healthChecks / check health should drop Healthy", async () => {
    const s = setup(kustomization({ wait: false }));
    built(s, []);
    s.obj.status = {
      conditions: [
        {
          type: "Healthy",
          status: "True",
          reason: "Succeeded",
          message: "old",
          lastTransitionTime: "2026-01-01T00:00:00Z",
        },
      ],
    };
    s.state.applied = { changeSet: [] };
    await run(checkHealth(s.deps), s);
    expect(getCondition(s.obj, "Healthy")).toBeUndefined();
  });

  it("Given wait and objects that are Current / check health should set Healthy and tell of it once", async () => {
    const s = setup(kustomization({ wait: true }));
    s.client.seed(owned("a"));
    built(s, [configMap("a")]);
    s.state.applied = {
      changeSet: [{ subject: `ConfigMap/${ns}/a`, action: "created", object: owned("a"), version: "v1" }],
    };
    await run(checkHealth(s.deps), s);
    expect(getCondition(s.obj, "Healthy")).toMatchObject({ status: "True", reason: "Succeeded" });
    expect(getCondition(s.obj, "Healthy")?.message).toMatch(/^Health check passed in \d+\.\ds$/);
    expect(s.ctx.events.events.map((e) => e.message)).toEqual([getCondition(s.obj, "Healthy")?.message]);
  });

  it("Given a finished pass / finish and the end of the pass should record the revision and one history entry", async () => {
    const s = setup();
    built(s, [configMap("a")]);
    s.state.applied = { changeSet: [] };
    await run(finish(s.deps), s);
    await endOfPass(s.ctx, s.obj, s.state, {});
    expect(s.obj.status?.lastAppliedRevision).toBe(revision);
    expect(s.obj.status?.history).toEqual([
      expect.objectContaining({
        digest: "sha256:set",
        lastReconciledStatus: "ReconciliationSucceeded",
        totalReconciliations: 1,
      }),
    ]);
  });

  it.each([
    ["an apply failure", "ReconciliationFailed", ["ReconciliationFailed"]],
    ["a health check failure", "HealthCheckFailed", ["HealthCheckFailed"]],
    ["a prune failure (not recorded, as before)", "PruneFailed", []],
  ])("Given %s / the end of the pass should record %s in history accordingly", async (_what, reason, expected) => {
    const s = setup();
    built(s, [configMap("a")]);
    await endOfPass(s.ctx, s.obj, s.state, { error: new ReconcileError("failed", { reason }) });
    expect((s.obj.status?.history ?? []).map((h) => h.lastReconciledStatus)).toEqual(expected);
  });

  it("Given a pass that ended before anything was rendered / the end of the pass should record no history", async () => {
    const s = setup();
    s.state.source = artifact;
    await endOfPass(s.ctx, s.obj, s.state, { error: new ReconcileError("no source", { reason: "ArtifactFailed" }) });
    expect(s.obj.status?.history).toBeUndefined();
  });
});

describe("Progress", () => {
  const setupProgress = (delayMs: number) => {
    const s = setup();
    const written: string[] = [];
    const ctx = {
      ...s.ctx,
      patchStatus: async (o: KubeObject & { status?: Record<string, unknown> }) => {
        const c = getCondition(o as KustomizationObject, "Reconciling");
        written.push(c ? `${c.reason}: ${c.message}` : "none");
      },
    };
    return {
      obj: s.obj,
      written,
      progress: new Progress(ctx, s.obj, { delayMs, started: Date.now(), timeoutMs: 90_000 }),
    };
  };

  it("Given a pass already running long / should write Reconciling with Flux's message at once, and nothing after stop", async () => {
    const { obj, written, progress } = setupProgress(0);
    progress.report("Building manifests", revision);
    await progress.stop();
    progress.report("Detecting drift", revision);
    await progress.stop();
    expect(written).toEqual([`Progressing: Building manifests for revision ${revision} with a timeout of 1m30s`]);
    expect(getCondition(obj, "Healthy")).toBeUndefined();
  });

  it("Given the health phase / should mark Healthy Unknown with the same message", async () => {
    const { obj, progress } = setupProgress(0);
    progress.report("Running health checks", revision);
    await progress.stop();
    expect(getCondition(obj, "Healthy")).toMatchObject({ status: "Unknown", reason: "Progressing" });
  });

  it("Given a pass that ends before the delay / should write nothing and leave the conditions alone", async () => {
    const { obj, written, progress } = setupProgress(60_000);
    progress.report("Building manifests", revision);
    await progress.stop();
    expect(written).toEqual([]);
    expect(getCondition(obj, "Reconciling")).toBeUndefined();
  });
});
