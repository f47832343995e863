// Polls objects until all are Current, failing fast on Failed (Flux's --feature-gates fail-fast is the default here)
// and reporting, on timeout, which objects held things up in Flux's message format. With `changes` (the drift
// watch's events for these objects, status changes included), the next look comes as soon as one of them changes,
// not at the next poll: a Deployment is Current a few hundred milliseconds after the apply, and a worker that slept
// the whole interval (5 s) held a Kustomization back that long. The poll stays, for kinds nobody watches yet.
// With `cache` (Capstan), objects are read from the drift watch's cache once it has seen the version this reconcile
// wrote, and from the apiserver otherwise, at a rate shared by all waits (`beforeRead`): a thousand waits parked at
// once cost the apiserver nothing while their objects roll out, instead of a GET per object per wake-up.
import { setTimeout as sleep } from "node:timers/promises";
import { KustomizationReasons } from "@capstan/api";
import { ReconcileError } from "@capstan/runtime";
import type { Client, KubeObject, ObjectRef } from "../kube.js";
import { type CompiledExprs, evaluateExprs, findExprs } from "./cel.js";
import { computeStatus, type StatusResult } from "./kstatus.js";

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  failFast?: boolean;
  exprs?: readonly CompiledExprs[];
  signal?: AbortSignal;
  /**
   * Subscribes to changes of the objects (any change, status included): calls `changed` on each, returns the
   * unsubscribe. A wake-up only; what counts is the next read through `client`.
   */
  changes?: (changed: () => void) => () => void;
  /** Least time between two looks when woken by changes (coalesces a burst of events). Default 200 ms. */
  settleMs?: number;
  /** (Capstan) Where objects are read before the apiserver. */
  cache?: HealthCache;
}

/** The answer of a cache for one object. */
export type CacheRead =
  /** The cache's copy is at least as new as what the reconcile wrote: its status is the health. */
  | { state: "fresh"; obj: KubeObject | undefined }
  /** The cache has not seen that version yet: its event will wake the wait; read live only after `intervalMs`. */
  | { state: "stale" };

export interface HealthCache {
  /** undefined: the cache cannot answer for this object (read it from the apiserver). */
  lookup(ref: ObjectRef): CacheRead | undefined;
  /** Waits for a turn to read from the apiserver: bounds the reads of all waits together. */
  beforeRead?(signal: AbortSignal | undefined): Promise<void>;
}

export interface ObjectStatus {
  ref: ObjectRef;
  result: StatusResult;
}

export function statusOf(obj: KubeObject | undefined, exprs: readonly CompiledExprs[] = []): StatusResult {
  if (obj && !obj.metadata.deletionTimestamp) {
    const custom = findExprs(exprs, obj);
    if (custom) return evaluateExprs(custom, obj);
  }
  return computeStatus(obj);
}

function fmtRef(ref: ObjectRef): string {
  return ref.namespace ? `${ref.kind}/${ref.namespace}/${ref.name}` : `${ref.kind}/${ref.name}`;
}

function summary(statuses: ObjectStatus[]): string {
  return statuses.map((s) => `${fmtRef(s.ref)} status: '${s.result.status}'`).join(", ");
}

export async function checkOnce(client: Client, refs: readonly ObjectRef[], exprs?: readonly CompiledExprs[]) {
  return Promise.all(refs.map((ref) => readLive(client, ref, exprs)));
}

async function readLive(
  client: Client,
  ref: ObjectRef,
  exprs: readonly CompiledExprs[] | undefined,
  before?: () => Promise<void>,
): Promise<ObjectStatus> {
  try {
    await before?.();
    return { ref, result: statusOf(await client.get(ref), exprs) };
  } catch (err) {
    return { ref, result: { status: "Unknown", message: (err as Error).message } };
  }
}

const notSeenYet: StatusResult = { status: "InProgress", message: "the applied version is not in the watch yet" };

/**
 * One look at every object: from the cache where it answers; a stale copy counts as in progress until `intervalMs`
 * after the object's last live read (or the wait's start), then it is read live.
 */
async function look(
  client: Client,
  refs: readonly ObjectRef[],
  options: WaitOptions,
  lastLive: number[],
  interval: number,
): Promise<ObjectStatus[]> {
  const cache = options.cache;
  if (!cache) return checkOnce(client, refs, options.exprs);
  const before = cache.beforeRead ? () => cache.beforeRead?.(options.signal) ?? Promise.resolve() : undefined;
  return Promise.all(
    refs.map(async (ref, i): Promise<ObjectStatus> => {
      const hit = cache.lookup(ref);
      if (hit?.state === "fresh") return { ref, result: statusOf(hit.obj, options.exprs) };
      if (hit?.state === "stale" && Date.now() - (lastLive[i] ?? 0) < interval) return { ref, result: notSeenYet };
      lastLive[i] = Date.now();
      return readLive(client, ref, options.exprs, before);
    }),
  );
}

/** Resolves when every object is Current; throws a ReconcileError (HealthCheckFailed) on timeout or (failFast) on a Failed object. */
export async function waitForSet(client: Client, refs: readonly ObjectRef[], options: WaitOptions): Promise<void> {
  if (refs.length === 0) return;
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 2000;
  const wake = new Wake();
  // Subscribed before the first read: a change between the read and the wait still wakes the wait.
  const unsubscribe = options.changes?.(() => wake.fire());
  const lastLive = refs.map(() => Date.now());
  try {
    for (;;) {
      wake.reset();
      const statuses = await look(client, refs, options, lastLive, interval);
      const pending = statuses.filter((s) => s.result.status !== "Current");
      if (pending.length === 0) return;
      const stalled = pending.filter((s) => s.result.status === "Failed");
      if (stalled.length > 0 && (options.failFast ?? true)) {
        throw new ReconcileError(`failed early due to stalled resources: [${summary(stalled)}]${detail(stalled)}`, {
          reason: KustomizationReasons.HealthCheckFailed,
        });
      }
      if (Date.now() + (unsubscribe ? 0 : interval) > deadline) {
        throw new ReconcileError(`timeout waiting for: [${summary(pending)}]${detail(pending)}`, {
          reason: KustomizationReasons.HealthCheckFailed,
        });
      }
      await wake.wait(Math.min(interval, deadline - Date.now()), options.settleMs ?? 200, options.signal);
    }
  } finally {
    unsubscribe?.();
  }
}

/** A wait that a change ends early: fired while nobody waits, the next wait ends at once (after settleMs). */
class Wake {
  private fired = false;
  private resolve: (() => void) | undefined;

  fire(): void {
    this.fired = true;
    this.resolve?.();
  }

  reset(): void {
    this.fired = false;
  }

  async wait(ms: number, settleMs: number, signal: AbortSignal | undefined): Promise<void> {
    const started = Date.now();
    if (!this.fired) {
      await new Promise<void>((resolve, reject) => {
        const settle = () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", abort);
          this.resolve = undefined;
        };
        const done = () => {
          settle();
          resolve();
        };
        const abort = () => {
          settle();
          reject(signal?.reason ?? new Error("aborted"));
        };
        const timer = setTimeout(done, Math.max(0, ms));
        this.resolve = done;
        if (signal?.aborted) abort();
        else signal?.addEventListener("abort", abort, { once: true });
      });
    }
    const rest = Math.min(settleMs, ms) - (Date.now() - started);
    if (rest > 0) await sleep(rest, undefined, { signal });
  }
}

function detail(statuses: ObjectStatus[]): string {
  const lines = statuses.filter((s) => s.result.message).map((s) => `${fmtRef(s.ref)}: ${s.result.message}`);
  return lines.length > 0 ? `\n${lines.join("\n")}` : "";
}
