// The heart of a reconcile: artifact → build → substitute → apply → inventory → prune → health, each failure with
// the reason Flux reports for it (ArtifactFailed, BuildFailed, ReconciliationFailed, PruneFailed, HealthCheckFailed).
import { createHash } from "node:crypto";
import type { ResourceInventory } from "@capstan/api";
import { markFalse, markTrue, type ReconcileContext, ReconcileError, removeCondition } from "@capstan/runtime";
import { type ChangeSetEntry, changeLog, entry } from "../apply/changeset.js";
import { type ApplyEngine, ApplySetError } from "../apply/engine.js";
import { kustomizeApplyOptions, pruneExclusions } from "../apply/options.js";
import { appliedOrder } from "../apply/sort.js";
import type { ApplyShortcut } from "../drift/shortcut.js";
import { BuildError } from "../errors.js";
import type { ArtifactFetcher } from "../fetch/fetcher.js";
import type { CacheJanitor } from "../fetch/janitor.js";
import { compileExprs } from "../health/cel.js";
import type { PreferredVersions } from "../health/preferred.js";
import { waitForSet } from "../health/wait.js";
import { inventoryOf, refOfEntry, staleEntries } from "../inventory/inventory.js";
import { type Client, type KubeObject, type ObjectRef, refOf } from "../kube.js";
import { anyInMetadata, fmtObject, groupKindOf, groupOf } from "../object.js";
import { buildManifests } from "../render/build.js";
import type { BuildCache } from "../render/cache.js";
import { setCommonMetadata } from "../render/metadata.js";
import { substituteObjects } from "../render/substitute.js";
import { loadVariables } from "../render/variables.js";
import { recordHistory } from "./history.js";
import type { KustomizationObject } from "./types.js";

export const revisionAnnotation = "kustomize.toolkit.fluxcd.io/revision";
export const originRevisionAnnotation = "kustomize.toolkit.fluxcd.io/originRevision";
const requestedAtAnnotation = "reconcile.fluxcd.io/requestedAt";

export interface ResourcesDeps {
  fetcher: ArtifactFetcher;
  kustomizeBinary: string;
  /** The apply engine for one reconcile of Kustomization `owner` (namespace/name): its writes are recorded as its. */
  newApplyEngine(client: Client, owner: string): ApplyEngine;
  fieldManager: string;
  strictSubstitutions?: boolean;
  scratchDir?: string;
  healthIntervalMs?: number;
  /** Skips the dry-runs of an unchanged, undrifted set (needs the drift watch). */
  shortcut?: ApplyShortcut;
  /** Keeps artifacts in use out of cache collections, and collects after a new artifact was fetched. */
  janitor?: CacheJanitor;
  /** Resolves healthChecks entries without apiVersion. */
  preferredVersions?: PreferredVersions;
  /** (Capstan) Reuses a Kustomization's last build while its inputs are unchanged (render/cache.ts). */
  buildCache?: BuildCache;
}

interface Attempt {
  ctx: ReconcileContext;
  obj: KustomizationObject;
  client: Client;
  revision: string;
  originRevision: string | undefined;
  timeoutMs: number;
  started: number;
}

function fail(reason: string, what: string, cause: unknown): never {
  throw new ReconcileError(`${what}${cause instanceof Error ? `: ${cause.message}` : ""}`, { reason, cause });
}

function isSopsEncrypted(o: KubeObject): boolean {
  return o.kind === "Secret" && o.apiVersion === "v1" && typeof o.sops === "object" && o.sops !== null;
}

/**
 * The previous build when nothing it was made from changed. Failing to gather the inputs (a missing substituteFrom
 * Secret, say) is not reported here: the build reports it, in the order it always has.
 */
async function reusedBuild(deps: ResourcesDeps, a: Attempt, digest: string) {
  const cache = deps.buildCache;
  if (!cache) return {};
  const spec = a.obj.spec;
  let variables: Record<string, string> | undefined;
  try {
    if (spec.postBuild)
      variables = await loadVariables(a.client, a.obj.metadata.namespace ?? "default", spec.postBuild);
  } catch {
    return {};
  }
  const fingerprint = cache.fingerprint({
    digest,
    spec,
    variables,
    settings: { kustomize: deps.kustomizeBinary, strict: deps.strictSubstitutions ?? false },
  });
  return { fingerprint, variables, objects: cache.get(keyOf(a.obj), fingerprint) };
}

async function build(
  deps: ResourcesDeps,
  a: Attempt,
  artifact: { url: string; digest: string },
): Promise<KubeObject[]> {
  const reused = await reusedBuild(deps, a, artifact.digest);
  if (reused.objects) {
    a.ctx.log.debug({ objects: reused.objects.length }, "build skipped: same artifact, spec and variables");
    return reused.objects;
  }
  let dir: string;
  try {
    dir = await deps.fetcher.fetch(artifact, a.ctx.signal);
  } catch (cause) {
    fail("ArtifactFailed", "failed to fetch artifact", cause);
  }
  const spec = a.obj.spec;
  let objects: KubeObject[];
  try {
    objects = await buildManifests({
      sourceDir: dir,
      path: spec.path,
      overlay: spec,
      kustomize: { binary: deps.kustomizeBinary, timeoutMs: a.timeoutMs, signal: a.ctx.signal },
      ...(deps.scratchDir ? { scratchDir: deps.scratchDir } : {}),
    });
    if (spec.postBuild) {
      const vars =
        reused.variables ?? (await loadVariables(a.client, a.obj.metadata.namespace ?? "default", spec.postBuild));
      objects = substituteObjects(objects, vars, {
        strict: deps.strictSubstitutions ?? false,
        always: spec.postBuild.substituteStrategy === "Always",
      });
    }
  } catch (cause) {
    // BuildErrors already say what failed and where; anything else gets the generic prefix.
    if (cause instanceof BuildError) throw new ReconcileError(cause.message, { reason: "BuildFailed", cause });
    fail("BuildFailed", "kustomize build failed", cause);
  }
  const encrypted = objects.find(isSopsEncrypted);
  if (encrypted) {
    throw new ReconcileError(
      `${fmtObject(encrypted)} is SOPS encrypted, configuring decryption is required for this secret to be reconciled`,
      { reason: "BuildFailed" },
    );
  }
  const result = setCommonMetadata(objects, spec.commonMetadata);
  if (reused.fingerprint) deps.buildCache?.set(keyOf(a.obj), reused.fingerprint, result);
  return result;
}

function digestOf(objects: readonly KubeObject[]): string {
  return `sha256:${createHash("sha256").update(JSON.stringify(objects)).digest("hex")}`;
}

function record(a: Attempt, digest: string, status: string): void {
  a.obj.status ??= {};
  a.obj.status.history = recordHistory(a.obj.status.history, {
    digest,
    revision: a.revision,
    status,
    at: new Date(),
    durationMs: Date.now() - a.started,
  });
}

/** An Event as Flux's: the revision (and origin revision) as annotations, for notification-controller. */
function event(a: Attempt, type: "Normal" | "Warning", reason: string, message: string): void {
  if (!message) return;
  const annotations: Record<string, string> = { [revisionAnnotation]: a.revision };
  if (a.originRevision) annotations[originRevisionAnnotation] = a.originRevision;
  a.ctx.events.event(a.obj, type, reason, message, annotations);
}

async function apply(deps: ResourcesDeps, a: Attempt, manager: ApplyEngine, objects: KubeObject[], digest: string) {
  let intent: Promise<void> | undefined;
  try {
    const changeSet = await manager.applyAllStaged(objects, {
      ...kustomizeApplyOptions(deps.fieldManager, {
        force: a.obj.spec.force ?? false,
        ignore: a.obj.spec.ignore ?? [],
        timeoutMs: a.timeoutMs,
      }),
      beforeWrite: () => {
        intent ??= recordIntent(a, objects);
        return intent;
      },
    });
    event(a, "Normal", "Progressing", changeLog(changeSet));
    return changeSet;
  } catch (cause) {
    record(a, digest, "ReconciliationFailed");
    const done = cause instanceof ApplySetError ? changeLog(cause.changeSet) : "";
    fail(
      "ReconciliationFailed",
      done ? `${(cause as Error).message}\n${done}` : "apply failed",
      done ? undefined : cause,
    );
  }
}

async function prune(
  a: Attempt,
  manager: ApplyEngine,
  previous: ResourceInventory | undefined,
  current: ResourceInventory,
) {
  const stale = staleEntries(previous, current);
  if (!a.obj.spec.prune || stale.length === 0) return current;
  try {
    const deleted = await manager.deleteAll(stale.map(refOfEntry), {
      inclusions: manager.ownerLabels(a.obj.metadata.name, a.obj.metadata.namespace ?? ""),
      exclusions: pruneExclusions,
    });
    event(a, "Normal", "Progressing", changeLog(deleted));
    return current;
  } catch (cause) {
    // Keep the stale entries so the next attempt prunes them again.
    a.obj.status ??= {};
    a.obj.status.inventory = { entries: [...current.entries, ...stale] };
    fail("PruneFailed", "pruning failed", cause);
  }
}

/** Flux reads a healthChecks entry by group and kind; no apiVersion means group `apps` (kept from v1beta1). */
async function healthCheckRef(
  deps: ResourcesDeps,
  a: Attempt,
  h: { apiVersion?: string; kind: string; name: string; namespace?: string },
): Promise<ObjectRef> {
  const namespace = h.namespace || a.obj.metadata.namespace;
  let apiVersion = h.apiVersion;
  if (!apiVersion) {
    if (!deps.preferredVersions) apiVersion = "apps/v1";
    else {
      try {
        apiVersion = `apps/${await deps.preferredVersions.of("apps")}`;
      } catch (cause) {
        fail(
          "HealthCheckFailed",
          `healthChecks entry ${h.kind}/${h.name}: cannot resolve the version of group apps`,
          cause,
        );
      }
    }
  }
  return { apiVersion, kind: h.kind, name: h.name, ...(namespace ? { namespace } : {}) };
}

async function healthRefs(deps: ResourcesDeps, a: Attempt, applied: readonly ChangeSetEntry[]): Promise<ObjectRef[]> {
  const self = (r: ObjectRef) =>
    r.kind === "Kustomization" && r.name === a.obj.metadata.name && r.namespace === a.obj.metadata.namespace;
  if (a.obj.spec.wait)
    return applied
      .filter((e) => e.action !== "skipped")
      .map((e) => refOf(e.object))
      .filter((r) => !self(r));
  const refs = await Promise.all((a.obj.spec.healthChecks ?? []).map((h) => healthCheckRef(deps, a, h)));
  return refs.filter((r) => !self(r));
}

async function checkHealth(deps: ResourcesDeps, a: Attempt, applied: readonly ChangeSetEntry[], digest: string) {
  const refs = await healthRefs(deps, a, applied);
  if (refs.length === 0) {
    removeCondition(a.obj, "Healthy");
    return;
  }
  const wasHealthy = a.obj.status?.conditions?.some((c) => c.type === "Healthy" && c.status === "True") ?? false;
  const started = Date.now();
  try {
    await waitForSet(a.client, refs, {
      timeoutMs: a.timeoutMs,
      intervalMs: deps.healthIntervalMs ?? 5000,
      failFast: true,
      exprs: compileExprs(a.obj.spec.healthCheckExprs ?? []),
      signal: a.ctx.signal,
    });
  } catch (cause) {
    const message = `health check failed after ${((Date.now() - started) / 1000).toFixed(1)}s: ${(cause as Error).message}`;
    markFalse(a.obj, "Healthy", "HealthCheckFailed", message);
    record(a, digest, "HealthCheckFailed");
    throw new ReconcileError(message, { reason: "HealthCheckFailed", cause });
  }
  const message = `Health check passed in ${((Date.now() - started) / 1000).toFixed(1)}s`;
  // Flux tells of a recovery, and of a changed revision that is healthy again.
  if (!wasHealthy || (a.obj.status?.lastAppliedRevision !== a.revision && changeLog(applied) !== "")) {
    event(a, "Normal", "Progressing", message);
  }
  markTrue(a.obj, "Healthy", "Succeeded", message);
}

const { exclusionSelector, ifNotPresentSelector } = kustomizeApplyOptions("", {});
const leftAlone = { ...exclusionSelector, ...ifNotPresentSelector };

function keyOf(obj: KustomizationObject): string {
  return `${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
}

function sameIds(a: ResourceInventory | undefined, b: ResourceInventory): boolean {
  const ids = (a?.entries ?? []).map((e) => `${e.id}@${e.v}`);
  return ids.length === b.entries.length && b.entries.every((e, i) => ids[i] === `${e.id}@${e.v}`);
}

/**
 * (Capstan) Before the first write of an apply, status.inventory becomes the union of what it held and what is about
 * to be applied, on record: a crash (or a failure) at any object leaves every object that may exist listed, and the
 * next successful reconcile prunes those no longer in the source. Flux records the inventory only after the apply, so
 * objects created by an interrupted apply and gone from Git by the next one are never pruned. Only written when the
 * set holds objects the inventory does not and the apply writes at all (an apply whose dry-runs fail leaves the
 * inventory as it was): one status write per reconcile that adds objects.
 */
async function recordIntent(a: Attempt, objects: readonly KubeObject[]): Promise<void> {
  const previous = a.obj.status?.inventory;
  const next = inventoryOf(appliedOrder(objects));
  const held = new Set((previous?.entries ?? []).map((e) => e.id));
  if (next.entries.every((e) => held.has(e.id))) return;
  a.obj.status ??= {};
  a.obj.status.inventory = { entries: [...next.entries, ...staleEntries(previous, next)] };
  try {
    await a.ctx.patchStatus(a.obj);
  } catch (cause) {
    fail("ReconciliationFailed", "failed to record the inventory before applying", cause);
  }
}

/**
 * Applies, unless the apply shortcut (drift/shortcut.ts) says that the cluster already holds this exact set: then
 * every object counts as unchanged and no object is read or dry-run.
 */
async function applyOrSkip(
  deps: ResourcesDeps,
  a: Attempt,
  manager: ApplyEngine,
  objects: KubeObject[],
  digest: string,
): Promise<{ changeSet: ChangeSetEntry[]; commit?: () => void }> {
  const obj = a.obj;
  const shortcut = deps.shortcut;
  const key = keyOf(obj);
  // A remote cluster (spec.kubeConfig) is not watched; a hand-edited inventory is repaired by a full apply.
  const eligible = !!shortcut && !obj.spec.kubeConfig;
  const ordered = eligible ? appliedOrder(objects) : [];
  const inventory = inventoryOf(ordered);
  const facts = {
    uid: obj.metadata.uid ?? "",
    generation: obj.metadata.generation ?? 0,
    requestedAt: obj.metadata.annotations?.[requestedAtAnnotation],
    digest,
    kinds: [...new Set(objects.map((o) => groupKindOf(groupOf(o.apiVersion), o.kind)))],
    // Objects the apply leaves alone (ssa: IfNotPresent, Ignore, reconcile: disabled) may well not carry our labels.
    ids: inventoryOf(ordered.filter((o) => !anyInMetadata(o, leftAlone))).entries.map((e) => e.id),
  };
  if (eligible && sameIds(obj.status?.inventory, inventory) && shortcut.trySkip(key, facts)) {
    a.ctx.log.debug({ objects: objects.length }, "apply skipped: same objects, no drift seen by the watch");
    return { changeSet: ordered.map((o) => entry(o, "unchanged")) };
  }
  const ticket = eligible ? shortcut.begin(key, facts.kinds) : undefined;
  const changeSet = await apply(deps, a, manager, objects, digest);
  return { changeSet, ...(ticket ? { commit: () => shortcut?.commit(key, ticket, facts) } : {}) };
}

export async function reconcileResources(
  deps: ResourcesDeps,
  ctx: ReconcileContext,
  obj: KustomizationObject,
  client: Client,
  artifact: { url: string; digest: string; revision: string; originRevision?: string },
  timeoutMs: number,
): Promise<void> {
  obj.status ??= {};
  obj.status.lastAttemptedRevision = artifact.revision;
  const a: Attempt = {
    ctx,
    obj,
    client,
    revision: artifact.revision,
    originRevision: artifact.originRevision,
    timeoutMs,
    started: Date.now(),
  };
  const manager = deps.newApplyEngine(client, keyOf(obj));
  const built = deps.janitor
    ? await deps.janitor.using(artifact.digest, () => build(deps, a, artifact))
    : await build(deps, a, artifact);
  const objects = manager.withOwnerLabels(built, obj.metadata.name, obj.metadata.namespace ?? "");
  const digest = digestOf(objects);
  const { changeSet, commit } = await applyOrSkip(deps, a, manager, objects, digest);
  const previous = obj.status.inventory;
  const current = inventoryOf(changeSet.map((e) => e.object));
  obj.status.inventory = current;
  await prune(a, manager, previous, current);
  await checkHealth(deps, a, changeSet, digest);
  if (obj.status.lastAppliedRevision !== artifact.revision) deps.janitor?.schedule();
  obj.status.lastAppliedRevision = artifact.revision;
  if (artifact.originRevision) obj.status.lastAppliedOriginRevision = artifact.originRevision;
  record(a, digest, "ReconciliationSucceeded");
  commit?.();
}
