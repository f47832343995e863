// The Kustomization's steps, in the order they run: check spec, resolve source, check dependencies, impersonate,
// build, apply, prune, check health, finish. Each hands what later steps need on in State (types.ts); the end of the
// pass (endOfPass) records status.history and stops the progress report, whatever step ended it.
import { createHash } from "node:crypto";
import { KustomizationConditions, KustomizationReasons, KustomizeAnnotations } from "@capstan/api";
import {
  describeError,
  isTrue,
  markTrue,
  namedStep,
  parked,
  parseDuration,
  Reasons,
  type ReconcileContext,
  ReconcileError,
  removeCondition,
  StallingError,
  type Step,
  type StepsOutcome,
  traced,
} from "@capstan/runtime";
import { changeLog } from "../apply/changeset.js";
import type { ApplyEngine } from "../apply/engine.js";
import { pruneExclusions } from "../apply/options.js";
import { appliedOrder } from "../apply/sort.js";
import type { ApplyShortcut } from "../drift/shortcut.js";
import type { CacheJanitor } from "../fetch/janitor.js";
import { compileExprs } from "../health/cel.js";
import type { PreferredVersions } from "../health/preferred.js";
import { waitForSet } from "../health/wait.js";
import { inventoryOf, refOfEntry, staleEntries } from "../inventory/inventory.js";
import type { Client } from "../kube.js";
import { applyOrSkip } from "./apply.js";
import { type BuildDeps, keyOf, render } from "./build.js";
import type { ClientProvider } from "./clients.js";
import { checkDependencies as checkDependsOn } from "./dependencies.js";
import { appliedCache, healthRefs, idOfRef, type WatchCache } from "./health.js";
import { recordHistory } from "./history.js";
import { defaultProgressDelayMs, Progress } from "./progress.js";
import { resolveSource as lookUpSource, type SourceCache } from "./source.js";
import { type KustomizationObject, need, type SourceArtifact, type State } from "./types.js";

export interface StepDeps extends BuildDeps {
  clients: ClientProvider;
  /** The apply engine for one reconcile of Kustomization `owner` (namespace/name): its writes are recorded as its. */
  newApplyEngine(client: Client, owner: string): ApplyEngine;
  /** Field manager of the apply: `kustomize-controller`. */
  fieldManager: string;
  /** --requeue-dependency: how soon to look again at a dependency or source that is not ready. */
  requeueDependencyMs: number;
  /** Feature gate AdditiveCELDependencyCheck: a readyExpr adds to the built-in readiness check. */
  additiveCelDependencyCheck?: boolean;
  /** --no-cross-namespace-refs: sourceRef and dependsOn must name this Kustomization's namespace. */
  noCrossNamespaceRefs?: boolean;
  /** The GitRepository informer's cache: sources are read from it rather than fetched each reconcile. */
  sources?: SourceCache;
  /** The OCIRepository informer's cache, the same way. */
  ociSources?: SourceCache;
  healthIntervalMs?: number;
  /** Wakes the health check when one of its objects changes (the drift watch's onChange), instead of the next poll. */
  healthChanges?: (ids: readonly string[], listener: () => void) => () => void;
  /** (Capstan) The drift watch's caches: the health check reads what it applied from them (health.ts). */
  healthCache?: WatchCache;
  /** Skips the dry-runs of an unchanged, undrifted set (needs the drift watch). */
  shortcut?: ApplyShortcut;
  /** Keeps artifacts in use out of cache collections, and collects after a new artifact was fetched. */
  janitor?: CacheJanitor;
  /** Resolves healthChecks entries without apiVersion. */
  preferredVersions?: PreferredVersions;
  /** How long a pass runs before Reconciling shows its progress (default 5 s). */
  progressDelayMs?: number;
}

type KustomizationStep = Step<KustomizationObject, State>;

function duration(obj: KustomizationObject, field: "interval" | "retryInterval" | "timeout"): number | undefined {
  const text = obj.spec[field];
  if (!text) return undefined;
  try {
    return parseDuration(text);
  } catch (cause) {
    throw new StallingError(`invalid spec.${field} '${text}'`, { reason: Reasons.ReconciliationFailed, cause });
  }
}

/** spec.retryInterval, else spec.interval; undefined when neither parses (checkSpec reports that). */
export function retryIntervalOf(obj: KustomizationObject): number | undefined {
  try {
    return duration(obj, "retryInterval") ?? duration(obj, "interval");
  } catch {
    return undefined;
  }
}

/** spec.timeout, else the interval, as Flux's GetTimeout. */
export function timeoutOf(obj: KustomizationObject): number {
  return duration(obj, "timeout") ?? duration(obj, "interval") ?? 300_000;
}

/** An Event as Flux's: the revision (and origin revision) as annotations, for notification-controller. */
function event(ctx: ReconcileContext, obj: KustomizationObject, source: SourceArtifact, message: string): void {
  if (!message) return;
  const annotations: Record<string, string> = { [KustomizeAnnotations.Revision]: source.revision };
  if (source.originRevision) annotations[KustomizeAnnotations.OriginRevision] = source.originRevision;
  ctx.events.event(obj, "Normal", Reasons.Progressing, message, annotations);
}

function progressOf(deps: StepDeps, ctx: ReconcileContext, obj: KustomizationObject, state: State): Progress {
  state.progress ??= new Progress(ctx, obj, {
    delayMs: deps.progressDelayMs ?? defaultProgressDelayMs,
    started: state.started,
    timeoutMs: timeoutOf(obj),
  });
  return state.progress;
}

/** Specs that cannot work as written stall before anything is read. */
export const checkSpec: KustomizationStep = async (_ctx, obj) => {
  if (obj.spec.decryption?.serviceAccountName) {
    throw new StallingError(
      "spec.decryption.serviceAccountName (cloud KMS through workload identity) is not supported: Capstan decrypts age-encrypted SOPS files with the keys of decryption.secretRef",
      { reason: KustomizationReasons.DecryptionFailed },
    );
  }
  timeoutOf(obj);
  duration(obj, "retryInterval");
};

/** The artifact spec.sourceRef publishes. First, as in Flux: a dependency on the same source must have applied it. */
export function resolveSource(deps: StepDeps): KustomizationStep {
  return async (ctx, obj, state) => {
    state.source = await lookUpSource(
      ctx.client,
      obj,
      deps.requeueDependencyMs,
      deps.noCrossNamespaceRefs,
      deps.sources,
      deps.ociSources,
    );
  };
}

/** spec.dependsOn: every dependency Ready (and at this revision when built from the same source). */
export function checkDependencies(deps: StepDeps): KustomizationStep {
  return async (ctx, obj, state) => {
    await checkDependsOn(ctx.client, obj, {
      requeueAfterMs: deps.requeueDependencyMs,
      sourceRevision: need(state, "source").revision,
      additiveCel: deps.additiveCelDependencyCheck ?? false,
      noCrossNamespaceRefs: deps.noCrossNamespaceRefs ?? false,
    });
  };
}

/** The client of spec.serviceAccountName (or --default-service-account), for spec.kubeConfig's cluster if set. */
export function impersonate(deps: StepDeps): KustomizationStep {
  return async (_ctx, obj, state) => {
    const client = await deps.clients.forObject(obj);
    state.client = client;
    state.engine = deps.newApplyEngine(client, keyOf(obj));
  };
}

function digestOf(objects: readonly unknown[]): string {
  return `sha256:${createHash("sha256").update(JSON.stringify(objects)).digest("hex")}`;
}

/** Fetch the artifact, `kustomize build` it with Flux's overlay and postBuild, label the objects ours, sort them. */
export function build(deps: StepDeps): KustomizationStep {
  return async (ctx, obj, state) => {
    const source = need(state, "source");
    const client = need(state, "client");
    const engine = need(state, "engine");
    obj.status ??= {};
    obj.status.lastAttemptedRevision = source.revision;
    const input = {
      ctx,
      obj,
      client,
      source,
      timeoutMs: timeoutOf(obj),
      progress: progressOf(deps, ctx, obj, state),
    };
    const built = deps.janitor
      ? await deps.janitor.using(source.digest, () => render(deps, input))
      : await render(deps, input);
    const labelled = engine.withOwnerLabels(built, obj.metadata.name, obj.metadata.namespace ?? "");
    // The digest is of the set as rendered (the history key Capstan always used); everything after reads it sorted.
    state.rendered = { objects: appliedOrder(labelled), digest: digestOf(labelled) };
  };
}

/** Server-side apply in stages (or the shortcut's skip), the change set as a Normal Event. */
export function apply(deps: StepDeps): KustomizationStep {
  return async (ctx, obj, state) => {
    const source = need(state, "source");
    const rendered = need(state, "rendered");
    const progress = progressOf(deps, ctx, obj, state);
    progress.report("Detecting drift", source.revision);
    state.applied = await applyOrSkip({
      obj,
      engine: need(state, "engine"),
      rendered,
      fieldManager: deps.fieldManager,
      timeoutMs: timeoutOf(obj),
      progress,
      shortcut: deps.shortcut,
      skipped: (objects) => ctx.log.debug({ objects }, "apply skipped: same objects, no drift seen by the watch"),
      span: (name, fn) => traced(ctx, name, fn),
      park: (wait) => parked(ctx, wait),
    });
    event(ctx, obj, source, changeLog(state.applied.changeSet));
  };
}

/**
 * Deletes what left the source (spec.prune) and records the new inventory. Until the deletions are done the
 * recorded inventory still lists them, so a crash in between prunes them next time; a failure keeps them listed.
 */
export const prune: KustomizationStep = async (ctx, obj, state) => {
  const source = need(state, "source");
  const engine = need(state, "engine");
  const current = inventoryOf(need(state, "applied").changeSet.map((e) => e.object));
  const stale = staleEntries(obj.status?.inventory, current);
  obj.status ??= {};
  if (obj.spec.prune && stale.length > 0) {
    try {
      const deleted = await engine.deleteAll(stale.map(refOfEntry), {
        inclusions: engine.ownerLabels(obj.metadata.name, obj.metadata.namespace ?? ""),
        exclusions: pruneExclusions,
      });
      event(ctx, obj, source, changeLog(deleted));
    } catch (cause) {
      obj.status.inventory = { entries: [...current.entries, ...stale] };
      throw new ReconcileError(`pruning failed${cause instanceof Error ? `: ${cause.message}` : ""}`, {
        reason: KustomizationReasons.PruneFailed,
        cause,
      });
    }
  }
  obj.status.inventory = current;
};

/** spec.wait or spec.healthChecks: waits (up to spec.timeout) for the objects to be Current; owns Healthy. */
export function checkHealth(deps: StepDeps): KustomizationStep {
  return async (ctx, obj, state) => {
    const source = need(state, "source");
    const applied = need(state, "applied").changeSet;
    const client = need(state, "client");
    const refs = await healthRefs(obj, applied, deps.preferredVersions);
    if (refs.length === 0) {
      removeCondition(obj, KustomizationConditions.Healthy);
      return;
    }
    const wasHealthy = isTrue(obj, KustomizationConditions.Healthy);
    progressOf(deps, ctx, obj, state).report("Running health checks", source.revision);
    const started = Date.now();
    try {
      const exprs = compileExprs(obj.spec.healthCheckExprs ?? []);
      // Pure waiting, woken by watch events: parked, it holds none of the --concurrent workers (README).
      await parked(ctx, (signal) =>
        waitForSet(client, refs, {
          timeoutMs: timeoutOf(obj),
          intervalMs: deps.healthIntervalMs ?? 5000,
          // A remote cluster's objects (spec.kubeConfig) are not what the local watch sees.
          ...(deps.healthChanges && !obj.spec.kubeConfig
            ? { changes: (changed: () => void) => deps.healthChanges?.(refs.map(idOfRef), changed) ?? (() => {}) }
            : {}),
          ...(deps.healthCache && !obj.spec.kubeConfig
            ? { cache: appliedCache(deps.healthCache, applied, exprs) }
            : {}),
          failFast: true,
          exprs,
          signal,
        }),
      );
    } catch (cause) {
      const message = `health check failed after ${((Date.now() - started) / 1000).toFixed(1)}s: ${(cause as Error).message}`;
      // The runtime marks Healthy False with this reason and message.
      throw new ReconcileError(message, {
        reason: KustomizationReasons.HealthCheckFailed,
        condition: KustomizationConditions.Healthy,
        cause,
      });
    }
    const message = `Health check passed in ${((Date.now() - started) / 1000).toFixed(1)}s`;
    // Flux tells of a recovery, and of a changed revision that is healthy again.
    if (!wasHealthy || (obj.status?.lastAppliedRevision !== source.revision && changeLog(applied) !== "")) {
      event(ctx, obj, source, message);
    }
    markTrue(obj, KustomizationConditions.Healthy, Reasons.Succeeded, message);
  };
}

/** The revision is applied: on record, the shortcut told, and the artifact cache collected after a new one. */
export function finish(deps: StepDeps): KustomizationStep {
  return async (_ctx, obj, state) => {
    const source = need(state, "source");
    obj.status ??= {};
    if (obj.status.lastAppliedRevision !== source.revision) deps.janitor?.schedule();
    obj.status.lastAppliedRevision = source.revision;
    if (source.originRevision) obj.status.lastAppliedOriginRevision = source.originRevision;
    state.applied?.commitShortcut?.();
  };
}

/** How an attempt that got as far as a rendered set counts in status.history (Flux records apply and health). */
function historyStatus(error: unknown): string | undefined {
  if (error === undefined) return KustomizationReasons.ReconciliationSucceeded;
  const { reason } = describeError(error);
  const recorded: string[] = [KustomizationReasons.ReconciliationFailed, KustomizationReasons.HealthCheckFailed];
  return recorded.includes(reason) ? reason : undefined;
}

/**
 * The end of every pass, however it ended: the progress report stops (its last write lands before the final status
 * patch), and status.history records the attempt once a set was rendered (the only place history is written).
 */
export async function endOfPass(
  _ctx: ReconcileContext,
  obj: KustomizationObject,
  state: State,
  outcome: StepsOutcome,
): Promise<void> {
  await state.progress?.stop();
  const rendered = state.rendered;
  const status = outcome.requeueAfterMs === undefined ? historyStatus(outcome.error) : undefined;
  if (!rendered || !state.source || !status) return;
  obj.status ??= {};
  obj.status.history = recordHistory(obj.status.history, {
    digest: rendered.digest,
    revision: state.source.revision,
    status,
    at: new Date(),
    durationMs: Date.now() - state.started,
  });
}

/** The steps in order. */
export function kustomizationSteps(deps: StepDeps): KustomizationStep[] {
  // The names are those of the reconcile trace (capstan_reconcile_step_duration_seconds{step}).
  return [
    namedStep("spec", checkSpec),
    namedStep("source", resolveSource(deps)),
    namedStep("dependencies", checkDependencies(deps)),
    namedStep("impersonate", impersonate(deps)),
    namedStep("build", build(deps)),
    namedStep("apply", apply(deps)),
    namedStep("prune", prune),
    namedStep("health", checkHealth(deps)),
    namedStep("finish", finish(deps)),
  ];
}
