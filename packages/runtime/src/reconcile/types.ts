import type { Cache, Client, EventRecorder, KubeObject, ObjectKey, ResourceType } from "../contracts.js";
import type { Logger } from "../telemetry/logger.js";
import type { WithConditions } from "./conditions.js";
import type { ConditionPolicy } from "./summarize.js";
import type { ReconcileTrace } from "./trace.js";

/** What a sub-reconciler gets besides the object: a logger for this reconcile, the client, the event recorder. */
export interface ReconcileContext {
  readonly log: Logger;
  readonly client: Client;
  readonly events: EventRecorder;
  /** Unique per reconcile; on every log line of it. */
  readonly reconcileID: string;
  /** Aborted when the process must stop now; a graceful drain lets reconciles finish and leaves it alone. */
  readonly signal: AbortSignal;
  /**
   * Writes the object's status now, as the final status patch would (same field manager, whole status), for what
   * must be on record before a step goes on: a crash after that point must find it. The final patch still runs.
   */
  patchStatus(obj: KubeObject & { status?: Record<string, unknown> }): Promise<void>;
  /**
   * Where this reconcile's time goes (Capstan): each step is timed by the runtime; a step marks parts of itself with
   * `traced(ctx, "fetch", fn)`. Absent on contexts built by hand (tests).
   */
  readonly trace?: ReconcileTrace;
  /**
   * (Capstan) performance.now() of the latest add of this object's key to the work queue: the newest event (watch
   * event, requeue, webhook annotation) this reconcile answers. A result computed by another reconcile after this
   * moment is as fresh as one computed now, so it may be shared (source-controller's ls-remote). Absent on contexts
   * built by hand: then share nothing that finished before.
   */
  readonly requestedAt?: number;
  /**
   * (Capstan) Runs `wait`, something that costs no CPU (a health check woken by watch events), without holding one
   * of the controller's --concurrent workers; see Lease.park in queue/workers.ts. `signal` aborts on ctx.signal and
   * when the controller stops (drain, leadership lost): the wait must then end, and the reconcile ends without
   * writing status (the next run, here or on the next leader, starts over). Absent on contexts built by hand: call
   * it through `parked(ctx, wait)`.
   */
  readonly park?: <R>(wait: (signal: AbortSignal) => Promise<R>) => Promise<R>;
}

/** Runs `wait` parked (ReconcileContext.park), or simply, with ctx.signal, on a context without a park. */
export function parked<R>(
  ctx: Pick<ReconcileContext, "park" | "signal">,
  wait: (signal: AbortSignal) => Promise<R>,
): Promise<R> {
  return ctx.park ? ctx.park(wait) : wait(ctx.signal);
}

/**
 * What a sub-reconciler asks for when it returns (errors are thrown, see errors.ts). Returning nothing means "go on
 * with the next step".
 */
export type StepResult =
  /** Go on with the next step (the same as returning nothing). */
  | { type: "continue" }
  /** Stop here, patch status and run again after `afterMs` (not a failure; observedGeneration stays). */
  | { type: "requeue"; afterMs: number };

export function stepRequeue(afterMs = 0): StepResult {
  return { type: "requeue", afterMs };
}

/**
 * A sub-reconciler: it owns some conditions, sets them on `obj`, and may record what later steps need in `state`.
 * It returns nothing to go on, `stepRequeue(ms)` to stop here, and throws (see errors.ts) to fail.
 */
export type Step<T, S> = (ctx: ReconcileContext, obj: T, state: S) => Promise<StepResult | undefined>;

/** How the steps of one pass ended, for the end-of-pass hook. */
export interface StepsOutcome {
  /** What a step threw, if anything. */
  error?: unknown;
  /** Set when a step asked to stop and requeue. */
  requeueAfterMs?: number;
}

/**
 * Another kind whose changes enqueue objects of the controller's own kind. Build one with `watch()`, which types
 * `map` and `shouldEnqueue` by the watched kind.
 */
export interface Watch<T extends KubeObject = KubeObject, O extends KubeObject = KubeObject> {
  type: ResourceType;
  /** Keys (namespace/name) of the controller's own objects that `obj` affects; `own` is their cache. */
  map(obj: O, own: Cache<T>): ObjectKey[];
  /** Which updates matter; default: any change. Adds and deletes always map. */
  shouldEnqueue?(oldObj: O, newObj: O): boolean;
  /** Watch every object of the kind, not only those --watch-label-selector selects (Secrets, other controllers' kinds). */
  ignoreLabelSelector?: boolean;
}

/** A Ready Event's own message (readyEvent), and the annotations it carries, e.g. the revision, as Flux's. */
export interface ReadyEvent {
  message: string;
  annotations?: Record<string, string>;
  /** Fields of the info log line that repeats the message (Flux's kustomize-controller logs the revision). */
  logFields?: Record<string, string>;
}

/** One controller: its kind, its condition bookkeeping, its ordered steps and its timing. */
export interface ReconcilerDefinition<T extends WithConditions = WithConditions, S = Record<string, unknown>> {
  /** Controller name in logs and metrics, as controller-runtime names it: the lower-case kind ("gitrepository"). */
  name: string;
  type: ResourceType;
  /** Default "finalizers.fluxcd.io"; null for a kind that needs no finalizer. */
  finalizer?: string | null;
  /**
   * Field manager of the status applies and finalizer patches; default the controller's name. A controller that
   * server-side applies objects of its own kind (kustomize-controller applying child Kustomizations) needs a name
   * of its own here (Flux: `gotk-kustomize-controller`), or its apply's managed-fields cleanup would take over,
   * and then remove, the finalizer a child's own reconcile added.
   */
  fieldManager?: string;
  conditions: ConditionPolicy;
  steps: readonly Step<T, S>[];
  newState?(obj: T): S;
  /**
   * Runs once after the steps of every pass, whatever they returned or threw (Go's `defer` in Flux's Reconcile):
   * releases what the steps acquired, e.g. a scratch directory. It runs before the conditions are summarized and
   * the status is written, so it may still set conditions. A throw is recorded as the pass's error when no step
   * failed, and logged otherwise.
   */
  endOfPass?(ctx: ReconcileContext, obj: T, state: S, outcome: StepsOutcome): Promise<void>;
  /** Cleanup before the finalizer goes; a throw keeps the finalizer and retries. */
  finalize?(ctx: ReconcileContext, obj: T): Promise<void>;
  /** Requeue interval after success, in ms; default spec.interval (a Go duration). */
  interval?(obj: T): number;
  /**
   * Requeue delay after a transient failure, in ms (kustomize-controller's spec.retryInterval). Undefined: the
   * failure is retried with the queue's exponential backoff (source-controller's behaviour).
   */
  retryInterval?(obj: T): number | undefined;
  /** Default spec.suspend === true. */
  isSuspended?(obj: T): boolean;
  /** ± fraction of the interval added at random so that objects created together spread out; default 0.05. */
  jitter?: number;
  /** Ready's reason and message when no summarized condition is present and nothing failed. */
  readyWhenEmpty?(obj: T): { reason: string; message: string };
  /**
   * Whether a pass that ends with Ready True emits a Normal Event with Ready's reason, and with which message: true
   * for Ready's message, a ReadyEvent for its own (logged at info too, as Flux logs "Reconciliation finished in …").
   * `before` is the status as the pass found it; `pass.elapsedMs` the time since the pass started. Default: when
   * Ready was not True before. source-controller's kinds follow Flux's rule instead (a new artifact has its own Event;
   * this one marks a recovery from failure only); kustomize-controller's emits one after every successful pass.
   */
  readyEvent?(before: T["status"] | undefined, obj: T, pass: { elapsedMs: number }): boolean | ReadyEvent;
  /**
   * Which updates of the controller's own objects enqueue them. Default: generation changed (spec), the
   * reconcile.fluxcd.io/requestedAt annotation changed, or deletion started (Flux's predicates).
   */
  shouldEnqueue?(oldObj: T, newObj: T): boolean;
  watches?: readonly Watch<T>[];
}

/**
 * A Watch typed by the watched kind `O`: `map` and `shouldEnqueue` get `O`, not KubeObject, and the result fits
 * ReconcilerDefinition.watches without a cast. `O` is the caller's claim about what the informer of `type` holds.
 */
export function watch<T extends KubeObject, O extends object>(
  type: ResourceType,
  spec: {
    map(obj: O, own: Cache<T>): ObjectKey[];
    shouldEnqueue?(oldObj: O, newObj: O): boolean;
    ignoreLabelSelector?: boolean;
  },
): Watch<T> {
  // The one cast: objects of `type` are the O the caller declared.
  const as = (obj: KubeObject) => obj as unknown as O;
  const w: Watch<T> = { type, map: (obj, own) => spec.map(as(obj), own) };
  const { shouldEnqueue } = spec;
  if (shouldEnqueue) w.shouldEnqueue = (a, b) => shouldEnqueue(as(a), as(b));
  if (spec.ignoreLabelSelector) w.ignoreLabelSelector = true;
  return w;
}
