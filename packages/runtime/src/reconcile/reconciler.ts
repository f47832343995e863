import { randomUUID } from "node:crypto";
import { Finalizer, Reasons } from "../apis/meta.js";
import type { Cache, Client, EventRecorder, KubeObject, ObjectKey } from "../contracts.js";
import type { Lease, Outcome } from "../queue/workers.js";
import { type Logger, reconcileLogger } from "../telemetry/logger.js";
import type { Metrics } from "../telemetry/metrics.js";
import {
  getCondition,
  markReconciling,
  ReadyCondition,
  ReconcilingCondition,
  type WithConditions,
} from "./conditions.js";
import { describeError, ReconcileError, WaitingError } from "./errors.js";
import { setFinalizer } from "./finalizers.js";
import { isNotFound, jittered, refOf, specDuration, specSuspended } from "./object.js";
import { type Finished, finishPass, type PassResult } from "./result.js";
import { recordReconcileRequest, sameStatus, writeStatus } from "./status.js";
import { withRuntimeConditions } from "./summarize.js";
import { nameOfStep, ReconcileTrace } from "./trace.js";
import type { ReadyEvent, ReconcileContext, ReconcilerDefinition } from "./types.js";

export interface ReconcileDeps<T extends WithConditions> {
  client: Client;
  cache: Cache<T>;
  events: EventRecorder;
  log: Logger;
  metrics: Metrics;
  /** The field manager of status applies and finalizer patches (the controller's name, as Flux uses). */
  fieldManager: string;
  signal?: AbortSignal;
}

/** What the queue knows about the key it hands out. */
export interface HandOut {
  /** Seconds the key waited in the queue (workqueue_queue_duration_seconds' observation). */
  queueWaitSeconds?: number;
  /** (Capstan) performance.now() of the key's latest add (WorkQueue.takeRequestedAt). */
  requestedAt?: number;
  /** (Capstan) Gives up the worker during a wait (the pool's Lease.park); absent, waits hold it. */
  park?: Lease["park"];
}

/** Turns a definition into the queue's handler: one reconcile of one key, Flux's shape (GUIDE.md §4). */
export function createReconcileHandler<T extends WithConditions, S>(
  def: ReconcilerDefinition<T, S>,
  deps: ReconcileDeps<T>,
): (key: ObjectKey, handOut?: HandOut) => Promise<Outcome> {
  const signal = deps.signal ?? new AbortController().signal;
  const finalizer = def.finalizer === undefined ? Finalizer : def.finalizer;
  const kind = def.type.kind;
  const owned = withRuntimeConditions(def.conditions).owned;
  const [group] = [def.type.group];
  // The resourceVersion of our last write to each object (status, finalizer). A reconcile that starts before the
  // informer has delivered that write would work from the status before it: an inventory that the previous
  // reconcile replaced, say, whose objects would then never be pruned. Such a reconcile reads the object instead.
  const written = new Map<ObjectKey, string>();
  const wrote = (key: ObjectKey, o: KubeObject) => {
    if (o.metadata.resourceVersion) written.set(key, o.metadata.resourceVersion);
  };

  const releaseFinalizer = async (ctx: ReconcileContext, obj: T) => {
    if (!finalizer || !obj.metadata.finalizers?.includes(finalizer)) return;
    await def.finalize?.(ctx, obj);
    await setFinalizer(deps.client, obj, finalizer, false, deps.fieldManager).catch(ignoreNotFound);
    ctx.log.info({}, "finalizer removed");
  };

  return async (key, handOut) => {
    const [namespace, name] = key.includes("/") ? (key.split("/", 2) as [string, string]) : [undefined, key];
    const ref = { kind, name, ...(namespace ? { namespace } : {}) };
    const cached = await current(deps, key, written).catch((err: unknown) => {
      deps.log.error({ controller: def.name, key, err: errorFields(err) }, "read object");
      return "retry" as const;
    });
    if (cached === "retry") return { type: "retry" };
    if (!cached) {
      written.delete(key);
      deps.metrics.recordCondition(ref, ReadyCondition, "Deleted");
      return { type: "done" };
    }
    const started = performance.now();
    const reconcileID = randomUUID();
    const log = reconcileLogger(deps.log, { controller: def.name, group, kind, name, namespace, reconcileID });
    const trace = new ReconcileTrace();
    trace.queueWaitSeconds = handOut?.queueWaitSeconds;
    let cancelled = false;
    const ctx: ReconcileContext = {
      log,
      client: deps.client,
      events: deps.events,
      reconcileID,
      signal,
      trace,
      ...(handOut?.requestedAt !== undefined ? { requestedAt: handOut.requestedAt } : {}),
      ...parkOf(handOut?.park, trace, signal, () => {
        cancelled = true;
      }),
      patchStatus: (o) =>
        trace.span("status", async () => wrote(key, await writeStatus(deps.client, o, deps.fieldManager, owned))),
    };
    // The cache's object is shared with every reader: work on a copy.
    let obj = structuredClone(cached);
    let metricsResult: "success" | "error" | "requeue" | "requeue_after" = "success";
    try {
      if (obj.metadata.deletionTimestamp) {
        await releaseFinalizer(ctx, obj);
        written.delete(key);
        deps.metrics.recordCondition(ref, ReadyCondition, "Deleted");
        return { type: "done" };
      }
      if (finalizer && !obj.metadata.finalizers?.includes(finalizer)) {
        const withFinalizer = obj;
        obj = await trace.span("finalizer", () =>
          setFinalizer(deps.client, withFinalizer, finalizer, true, deps.fieldManager),
        );
        wrote(key, obj);
      }
      if ((def.isSuspended ?? specSuspended)(obj)) {
        log.info({}, "Reconciliation is suspended for this object");
        return { type: "done" };
      }
      const result = await reconcileOnce(
        def,
        deps,
        ctx,
        obj,
        (o) => wrote(key, o),
        () => cancelled,
        started,
      );
      metricsResult = result.metricsResult;
      return result.outcome;
    } catch (err) {
      // Finalizer patches, finalize() and the status patch land here: retried with backoff.
      if (isNotFound(err)) return { type: "done" };
      metricsResult = "error";
      log.error({ err: errorFields(err) }, "Reconciler error");
      return { type: "retry" };
    } finally {
      const seconds = (performance.now() - started) / 1000;
      deps.metrics.recordDuration(ref, seconds);
      deps.metrics.recordReconcile(def.name, metricsResult, seconds);
      recordTrace(deps.metrics, log, kind, trace, metricsResult, seconds);
    }
  };
}

/** The context's park, when the pool lent one. */
function parkOf(
  park: Lease["park"] | undefined,
  trace: ReconcileTrace,
  signal: AbortSignal,
  onCancel: () => void,
): Pick<ReconcileContext, "park"> {
  if (!park) return {};
  return { park: (wait) => parkTraced(park, trace, signal, wait, onCancel) };
}

/**
 * A park whose wait ends on ctx.signal too, and whose wait for a worker afterwards is traced as "unpark" (out of
 * the step's own time). A wait that fails once its signal aborted was cancelled: `onCancel` marks the reconcile so.
 */
async function parkTraced<R>(
  park: Lease["park"],
  trace: ReconcileTrace,
  signal: AbortSignal,
  wait: (signal: AbortSignal) => Promise<R>,
  onCancel: () => void,
): Promise<R> {
  let woke: number | undefined;
  try {
    return await park(async (stop) => {
      const both = AbortSignal.any([signal, stop]);
      try {
        return await wait(both);
      } catch (err) {
        if (both.aborted) onCancel();
        throw err;
      } finally {
        woke = performance.now();
      }
    });
  } finally {
    if (woke !== undefined) trace.record("unpark", performance.now() - woke);
  }
}

/** The trace's steps as capstan_reconcile_step_duration_seconds, and one debug line with the whole breakdown. */
function recordTrace(
  metrics: Metrics,
  log: Logger,
  kind: string,
  trace: ReconcileTrace,
  result: string,
  seconds: number,
): void {
  for (const [step, s] of trace.seconds()) metrics.recordStep(kind, step, s);
  const ms = (s: number) => Math.round(s * 10000) / 10;
  const wait = trace.queueWaitSeconds;
  log.debug(
    {
      result,
      durationMs: ms(seconds),
      ...(wait !== undefined ? { queueWaitMs: ms(wait) } : {}),
      steps: trace.breakdownMs(),
    },
    "reconcile trace",
  );
}

async function reconcileOnce<T extends WithConditions, S>(
  def: ReconcilerDefinition<T, S>,
  deps: ReconcileDeps<T>,
  ctx: ReconcileContext,
  obj: T,
  wrote: (o: KubeObject) => void,
  cancelled: () => boolean = () => false,
  started: number,
): Promise<Finished> {
  const before = structuredClone(obj.status);
  const wasReady = getCondition(obj, ReadyCondition)?.status === "True";
  recordReconcileRequest(obj);
  const generation = obj.metadata.generation ?? 0;
  const observed = (obj.status?.observedGeneration as number | undefined) ?? -1;
  if (observed !== generation) {
    markReconciling(obj, Reasons.Progressing, `processing object: new generation ${observed} -> ${generation}`);
  }

  const pass = await runSteps(def, ctx, obj);
  if (cancelled()) {
    // A parked wait cancelled by the controller's stop: what this pass found is no verdict on the object, so no
    // status, no Event; whoever reconciles next starts over.
    ctx.log.info({}, "reconcile cancelled while parked: the controller is stopping");
    return { outcome: { type: "retry" }, metricsResult: "requeue", stalled: false };
  }
  const finished = finishPass(obj, def.conditions, pass, {
    intervalMs: jittered(intervalOf(def, obj), def.jitter ?? 0.05),
    retryIntervalMs: def.retryInterval?.(obj),
    readyWhenEmpty: def.readyWhenEmpty?.(obj) ?? { reason: Reasons.Succeeded, message: "Reconciliation succeeded" },
  });
  const patched = !sameStatus(before, obj.status);
  if (patched) {
    const owned = withRuntimeConditions(def.conditions).owned;
    const write = () => writeStatus(deps.client, obj, deps.fieldManager, owned);
    wrote(await (ctx.trace ? ctx.trace.span("status", write) : write()));
  }

  const ready = getCondition(obj, ReadyCondition);
  if (ready) deps.metrics.recordCondition({ kind: obj.kind, ...obj.metadata }, ReadyCondition, ready.status);
  if (pass.error !== undefined) {
    const { reason, message } = describeError(pass.error);
    // A wait is expected (a dependency not ready yet) and retried on its own: info, as Flux logs it, not an error;
    // once, when it changed status, then debug (a Kustomization waiting minutes for its source logs it once).
    if (pass.error instanceof WaitingError) (patched ? ctx.log.info : ctx.log.debug).call(ctx.log, { reason }, message);
    else ctx.log.error({ err: errorFields(pass.error), reason }, "Reconciler error");
    if (!(pass.error instanceof ReconcileError) || pass.error.event) {
      ctx.events.event(obj, "Warning", reason, message);
    }
  } else if (ready?.status === "True") {
    const event = def.readyEvent
      ? def.readyEvent(before as T["status"], obj, { elapsedMs: performance.now() - started })
      : !wasReady;
    emitReadyEvent(ctx, obj, ready, event);
  }
  ctx.log.debug(
    { patched, reconciling: getCondition(obj, ReconcilingCondition) !== undefined, outcome: finished.outcome },
    "reconcile finished",
  );
  return finished;
}

/** The Normal Event of a pass that ended Ready, as ReconcilerDefinition.readyEvent decided: none, Ready's, or its own. */
function emitReadyEvent(
  ctx: ReconcileContext,
  obj: KubeObject,
  ready: { reason: string; message: string },
  event: boolean | ReadyEvent,
): void {
  if (event === true) ctx.events.event(obj, "Normal", ready.reason, ready.message);
  else if (event) {
    ctx.log.info(event.logFields ?? {}, event.message);
    ctx.events.event(obj, "Normal", ready.reason, event.message, event.annotations);
  }
}

async function runSteps<T extends WithConditions, S>(
  def: ReconcilerDefinition<T, S>,
  ctx: ReconcileContext,
  obj: T,
): Promise<PassResult> {
  const state = def.newState ? def.newState(obj) : ({} as S);
  const pass: PassResult = {};
  try {
    for (const [i, step] of def.steps.entries()) {
      const run = () => step(ctx, obj, state);
      const result = await (ctx.trace ? ctx.trace.span(nameOfStep(step, i), run) : run());
      if (result?.type === "requeue") {
        pass.requeueAfterMs = result.afterMs;
        break;
      }
    }
  } catch (error) {
    pass.error = error;
  }
  if (def.endOfPass) {
    const endOfPass = def.endOfPass;
    try {
      const run = () => endOfPass(ctx, obj, state, { ...pass });
      await (ctx.trace ? ctx.trace.span("endOfPass", run) : run());
    } catch (error) {
      if (pass.error === undefined) pass.error = error;
      else ctx.log.error({ err: errorFields(error) }, "end of pass");
    }
  }
  return pass;
}

function intervalOf<T extends WithConditions, S>(def: ReconcilerDefinition<T, S>, obj: T): number {
  if (def.interval) return def.interval(obj);
  try {
    return specDuration(obj, "interval") ?? 0;
  } catch {
    return 0; // an invalid interval is for a step to report; here it only means "no periodic requeue"
  }
}

/**
 * The object from the cache, unless the cache has not caught up with our last write to it: then from the apiserver
 * (once the cache holds the version read, the cache is trusted again).
 */
async function current<T extends WithConditions>(
  deps: ReconcileDeps<T>,
  key: ObjectKey,
  written: Map<ObjectKey, string>,
): Promise<T | undefined> {
  const cached = deps.cache.get(key);
  const ours = written.get(key);
  if (!cached || ours === undefined || cached.metadata.resourceVersion === ours) return cached;
  const live = await deps.client.get<T>(refOf(cached));
  if (!live || live.metadata.resourceVersion === cached.metadata.resourceVersion) written.delete(key);
  return live;
}

function ignoreNotFound(err: unknown): undefined {
  // setFinalizer wraps the client's error: a second pass over a deleted object (a stale cache) ends here.
  if (isNotFound(err) || isNotFound((err as Error | undefined)?.cause)) return undefined;
  throw err;
}

/** Message and chain of causes for the log; never the error object itself (it might carry request options). */
function errorFields(err: unknown): { message: string; causes?: string[] } {
  const message = err instanceof Error ? err.message : String(err);
  const causes: string[] = [];
  let c = err instanceof Error ? err.cause : undefined;
  while (c instanceof Error && causes.length < 5) {
    causes.push(c.message);
    c = c.cause;
  }
  return causes.length ? { message, causes } : { message };
}
