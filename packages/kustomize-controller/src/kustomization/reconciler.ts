// The Kustomization reconciler: Flux's kustomize-controller as a list of steps over the runtime's reconcile loop.
import {
  gitRepositoryType,
  KustomizationConditions,
  KustomizationReasons,
  KustomizeAnnotations,
  kustomizationType,
  ociRepositoryType,
} from "@capstan/api";
import {
  type Cache,
  Conditions,
  Finalizer,
  formatDuration,
  getCondition,
  parked,
  type ReadyEvent,
  Reasons,
  type ReconcileContext,
  type ReconcilerDefinition,
  specDuration,
  specOrRequestChanged,
  watch,
} from "@capstan/runtime";
import { pruneExclusions } from "../apply/options.js";
import { refOfEntry } from "../inventory/inventory.js";
import { refOf } from "../kube.js";
import { sourceKey } from "./source.js";
import { type DependsOnIndex, dependsOnKeys, type SourceIndex } from "./source-index.js";
import { endOfPass, kustomizationSteps, retryIntervalOf, type StepDeps, timeoutOf } from "./steps.js";
import type { GitRepositoryObject, KustomizationObject, OCIRepositoryObject, State } from "./types.js";

/** What the reconciler is built from: the steps' dependencies (steps.ts), and the index its source watch maps by. */
export type KustomizationReconcilerDeps = StepDeps & { sourceIndex?: SourceIndex; dependsOnIndex?: DependsOnIndex };

/** Flux's `gotk-<controller>`: the manager of Kustomization status and finalizer writes. */
export function statusFieldManager(applyManager: string): string {
  return `gotk-${applyManager}`;
}

/** deletionPolicy: MirrorPrune follows spec.prune; Delete and WaitForTermination delete; Orphan keeps. */
export function shouldDeleteOnFinalize(obj: KustomizationObject): boolean {
  const policy = obj.spec.deletionPolicy ?? "MirrorPrune";
  if (policy === "MirrorPrune") return obj.spec.prune;
  return policy === "Delete" || policy === "WaitForTermination";
}

async function finalize(deps: KustomizationReconcilerDeps, ctx: ReconcileContext, obj: KustomizationObject) {
  const entries = obj.status?.inventory?.entries ?? [];
  if (!shouldDeleteOnFinalize(obj) || obj.spec.suspend || entries.length === 0) return;
  const client = await deps.clients.forObject(obj);
  const engine = deps.newApplyEngine(client, `${obj.metadata.namespace ?? ""}/${obj.metadata.name}`);
  const refs = entries.map(refOfEntry);
  const deleted = await engine.deleteAll(refs, {
    inclusions: engine.ownerLabels(obj.metadata.name, obj.metadata.namespace ?? ""),
    exclusions: pruneExclusions,
  });
  const log = deleted.filter((e) => e.action === "deleted").map((e) => `${e.subject} deleted`);
  if (log.length > 0) ctx.events.event(obj, "Normal", Reasons.Progressing, log.join("\n"));
  if (obj.spec.deletionPolicy === "WaitForTermination") {
    const gone = deleted.filter((e) => e.action === "deleted").map((e) => refOf(e.object));
    // Pure waiting (a GET a second): parked, it holds no worker.
    await parked(ctx, (signal) => engine.waitForTermination(gone, timeoutOf(obj), 1000, signal));
  }
}

/**
 * The finalizer went away while the object lives: put it back now, not at the next interval. A parent's apply did
 * that to finalizers that earlier Capstan versions wrote under `kustomize-controller` (once, on upgrade), and a
 * Kustomization without its finalizer would be deleted without pruning.
 */
export function lostFinalizer(oldObj: KustomizationObject, newObj: KustomizationObject): boolean {
  const has = (o: KustomizationObject) => o.metadata.finalizers?.includes(Finalizer) ?? false;
  return has(oldObj) && !has(newObj) && !newObj.metadata.deletionTimestamp;
}

/**
 * A new artifact revision of a source enqueues the Kustomizations built from it, found through the index by sourceRef
 * (a scan of all Kustomizations without one). A Kustomization waiting for its source's first artifact wakes here.
 */
function sourceWatchOf<S extends GitRepositoryObject | OCIRepositoryObject>(
  type: typeof gitRepositoryType | typeof ociRepositoryType,
  index?: SourceIndex,
) {
  return watch<KustomizationObject, S>(type, {
    map(source: S, own: Cache<KustomizationObject>) {
      const { namespace = "", name } = source.metadata;
      if (index) return index.dependents(type.kind, namespace, name);
      const key = `${namespace}/${name}`;
      return own
        .list()
        .filter((k) => k.spec.sourceRef.kind === type.kind && sourceKey(k) === key)
        .map((k) => `${k.metadata.namespace}/${k.metadata.name}`);
    },
    shouldEnqueue(oldObj, newObj) {
      const a = oldObj.status?.artifact;
      const b = newObj.status?.artifact;
      return a?.revision !== b?.revision || a?.digest !== b?.digest;
    },
    // The same unfiltered informer controller.ts reads sources from: a source need not carry the shard label.
    ignoreLabelSelector: true,
  });
}
export const sourceWatch = (index?: SourceIndex) => sourceWatchOf<GitRepositoryObject>(gitRepositoryType, index);
export const ociSourceWatch = (index?: SourceIndex) => sourceWatchOf<OCIRepositoryObject>(ociRepositoryType, index);

/**
 * (Capstan) A Kustomization whose readiness or applied revision changes wakes the Kustomizations that depend on it at
 * once, instead of leaving them to find out at their next --requeue-dependency (30 s): a push that changes a
 * dependency and its dependents reaches all of them within seconds. The periodic requeue stays as the fallback.
 */
export const dependencyWatch = (index?: DependsOnIndex) =>
  watch<KustomizationObject, KustomizationObject>(kustomizationType, {
    map(dependency: KustomizationObject, own: Cache<KustomizationObject>) {
      const { namespace = "", name } = dependency.metadata;
      if (index) return index.dependents(namespace, name);
      const key = `${namespace}/${name}`;
      return own
        .list()
        .filter((k) => dependsOnKeys(k).includes(key))
        .map((k) => `${k.metadata.namespace}/${k.metadata.name}`);
    },
    shouldEnqueue(oldObj, newObj) {
      const ready = (o: KustomizationObject) => {
        const c = getCondition(o, Conditions.Ready);
        return `${c?.status}/${c?.reason}`;
      };
      return (
        ready(oldObj) !== ready(newObj) ||
        oldObj.status?.lastAppliedRevision !== newObj.status?.lastAppliedRevision ||
        oldObj.status?.observedGeneration !== newObj.status?.observedGeneration
      );
    },
    // A dependency need not carry this shard's label (Flux reads dependencies whatever their labels).
    ignoreLabelSelector: true,
  });

/**
 * The Event of every pass that ends Ready, as Flux's kustomize-controller emits it (and logs it) after each successful
 * reconcile, an unchanged one included: "Reconciliation finished in <time>, next run in <interval>" under Ready's
 * reason, with the applied revision and `commit_status: update` (Flux's notification-controller sets a Git commit
 * status from it and leaves it out of chat notifications).
 */
export function finishedEvent(obj: KustomizationObject, elapsedMs: number): ReadyEvent {
  let interval: string;
  try {
    interval = formatDuration(specDuration(obj, "interval") ?? 0);
  } catch {
    interval = String(obj.spec.interval);
  }
  const annotations: Record<string, string> = { [KustomizeAnnotations.CommitStatus]: "update" };
  const revision = obj.status?.lastAppliedRevision;
  if (revision) annotations[KustomizeAnnotations.Revision] = revision;
  const origin = obj.status?.lastAppliedOriginRevision;
  if (origin) annotations[KustomizeAnnotations.OriginRevision] = origin;
  return {
    message: `Reconciliation finished in ${formatDuration(elapsedMs)}, next run in ${interval}`,
    annotations,
    logFields: { revision: obj.status?.lastAttemptedRevision ?? "" },
  };
}

export function kustomizationReconciler(
  deps: KustomizationReconcilerDeps,
): ReconcilerDefinition<KustomizationObject, State> {
  return {
    name: "kustomization",
    type: kustomizationType,
    // Flux's statusManager: the finalizer and status are never under the apply's manager, whose cleanup would hand
    // them to the apply of a parent Kustomization, which then removes the child's finalizer (see the README).
    fieldManager: statusFieldManager(deps.fieldManager),
    conditions: { owned: [KustomizationConditions.Healthy], summarize: [], negativePolarity: [] },
    steps: kustomizationSteps(deps),
    newState: () => ({ started: Date.now() }),
    endOfPass,
    finalize: (ctx, obj) => finalize(deps, ctx, obj),
    retryInterval: retryIntervalOf,
    readyEvent: (_before, obj, pass) => finishedEvent(obj, pass.elapsedMs),
    readyWhenEmpty: (obj) => ({
      reason: KustomizationReasons.ReconciliationSucceeded,
      message: `Applied revision: ${obj.status?.lastAppliedRevision ?? ""}`,
    }),
    watches: [sourceWatch(deps.sourceIndex), ociSourceWatch(deps.sourceIndex), dependencyWatch(deps.dependsOnIndex)],
    shouldEnqueue: (oldObj, newObj) => specOrRequestChanged(oldObj, newObj) || lostFinalizer(oldObj, newObj),
  };
}
