// The apply engine (fluxcd/pkg/ssa's ResourceManager; "manager" here means the runtime's process Manager and the SSA
// field manager only): server-side apply of a set of objects, dry-running every object, patching only those that
// drifted, recreating on immutable-field errors when forced, in stages (cluster definitions, then *Class kinds, then
// the rest) with a wait between them so CRDs are Established before their custom resources arrive.

import { setTimeout as sleep } from "node:timers/promises";
import { KustomizationReasons } from "@capstan/api";
import { ReconcileError } from "@capstan/runtime";
import { waitForSet } from "../health/wait.js";
import { type Client, type KubeObject, type ObjectRef, refOf } from "../kube.js";
import { anyInMetadata, fmtObject } from "../object.js";
import { type ChangeSetEntry, entry, liveVersionOf } from "./changeset.js";
import { type CleanupOptions, cleanupPatch } from "./cleanup.js";
import { hasDrifted, type IgnoreRule } from "./diff.js";
import { isImmutableError, isNotFound, reasonOf } from "./errors.js";
import { applyWaves, compareObjects, sortObjects, stageObjects } from "./sort.js";

/** The label keys naming an object's owner (kustomize-controller's are @capstan/api's KustomizeLabels). */
export interface OwnerLabelKeys {
  Name: string;
  Namespace: string;
}

export interface ApplyEngineOptions {
  client: Client;
  /** Field manager of every apply: `kustomize-controller`. */
  fieldManager: string;
  /** Keys of the owner labels, the mark that makes an object ours to prune: KustomizeLabels. */
  ownerLabels: OwnerLabelKeys;
  /** Parallel server-side apply requests (reads, dry-runs, applies) within a stage: --concurrent-ssa (default 4). */
  concurrency?: number;
  /** Told of every object this manager wrote (as the apiserver returned it), so a watch can tell our writes apart. */
  onWrite?(obj: KubeObject): void;
  /** Told of every object this manager deleted. */
  onDelete?(obj: KubeObject): void;
  /** Awaited before each write of an apply; a rejection fails that object (tests stop here to simulate a crash). */
  beforeWrite?(obj: KubeObject): Promise<void> | void;
}

export interface ApplyOptions {
  /** Recreate objects whose immutable fields changed (spec.force). */
  force?: boolean;
  /** Objects (desired or live) carrying any of these are left alone. */
  exclusionSelector?: Record<string, string>;
  /** Desired objects carrying any of these are only created, never patched. */
  ifNotPresentSelector?: Record<string, string>;
  /** Objects carrying any of these are recreated on immutable-field errors even without force. */
  forceSelector?: Record<string, string>;
  cleanup?: CleanupOptions & { exclusions?: Record<string, string> };
  ignore?: IgnoreRule[];
  /** How long to wait for cluster definitions and class kinds to become ready between stages. */
  waitTimeoutMs?: number;
  waitIntervalMs?: number;
  signal?: AbortSignal;
  /**
   * Awaited before every write (cleanup patch, recreate, apply), possibly concurrently: what must be on record
   * before the cluster changes (the caller memoizes it). A rejection fails the object about to be written.
   */
  beforeWrite?(): Promise<void>;
  /**
   * Runs a part of the apply as a named span of the reconcile trace (the runtime's `traced`): `apply.plan` (reads and
   * dry-runs), `apply.write` (the writes), `apply.wait` (the wait between stages).
   */
  span?<R>(name: string, fn: () => Promise<R>): Promise<R>;
  /**
   * Runs the wait between stages (pure waiting: reads and sleeps) without holding a worker (the runtime's `parked`
   * over the reconcile's context); `signal` then replaces opts.signal for that wait.
   */
  park?<R>(wait: (signal: AbortSignal | undefined) => Promise<R>): Promise<R>;
}

export interface DeleteOptions {
  /** All of these must be on the live object: only our own objects are deleted. */
  inclusions: Record<string, string>;
  /** Any of these on the live object keeps it. */
  exclusions?: Record<string, string>;
  propagationPolicy?: "Background" | "Foreground" | "Orphan";
}

/** An aggregate failure that still carries what was done before it. */
export class ApplySetError extends ReconcileError {
  constructor(
    message: string,
    readonly changeSet: ChangeSetEntry[],
    readonly errors: Error[],
  ) {
    super(message, { reason: KustomizationReasons.ReconciliationFailed, cause: errors[0] });
    this.name = "ApplySetError";
  }
}

async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A part of the apply as a span of the reconcile trace, when the caller traces. */
function span<R>(opts: ApplyOptions, name: string, fn: () => Promise<R>): Promise<R> {
  return opts.span ? opts.span(name, fn) : fn();
}

type Planned = { entry: ChangeSetEntry; apply?: KubeObject } | { error: Error };

export class ApplyEngine {
  constructor(private readonly options: ApplyEngineOptions) {}

  get client(): Client {
    return this.options.client;
  }

  private get concurrency(): number {
    return Math.max(1, this.options.concurrency ?? 4);
  }

  ownerLabels(name: string, namespace: string): Record<string, string> {
    const keys = this.options.ownerLabels;
    return { [keys.Name]: name, [keys.Namespace]: namespace };
  }

  /** Copies of the objects carrying the owner labels, the mark that makes them ours to prune. */
  withOwnerLabels(objects: readonly KubeObject[], name: string, namespace: string): KubeObject[] {
    const labels = this.ownerLabels(name, namespace);
    return objects.map((o) => ({ ...o, metadata: { ...o.metadata, labels: { ...o.metadata.labels, ...labels } } }));
  }

  /** Applies in stages; throws ApplySetError listing every object that failed, with the entries that succeeded. */
  async applyAllStaged(objects: readonly KubeObject[], opts: ApplyOptions = {}): Promise<ChangeSetEntry[]> {
    const stages = stageObjects(objects);
    const result: ChangeSetEntry[] = [];
    for (const [stage, wait] of [
      [stages.definitions, true],
      [stages.classes, true],
      [stages.resources, false],
    ] as const) {
      if (stage.length === 0) continue;
      try {
        result.push(...(await this.applyAll(stage, opts)));
      } catch (err) {
        if (err instanceof ApplySetError)
          throw new ApplySetError(err.message, [...result, ...err.changeSet], err.errors);
        throw err;
      }
      if (wait) {
        const waitReady = (signal: AbortSignal | undefined) =>
          waitForSet(this.client, stage.map(refOf), {
            timeoutMs: opts.waitTimeoutMs ?? 60_000,
            intervalMs: opts.waitIntervalMs ?? 500,
            signal,
          });
        await span(opts, "apply.wait", () => (opts.park ? opts.park(waitReady) : waitReady(opts.signal))).catch(
          (cause: unknown) => {
            throw new ApplySetError(`${(cause as Error).message}`, result, [cause as Error]);
          },
        );
      }
    }
    return result;
  }

  /** Dry-runs every object, then applies those that drifted; errors of all objects are reported together. */
  async applyAll(objects: readonly KubeObject[], opts: ApplyOptions = {}): Promise<ChangeSetEntry[]> {
    const sorted = sortObjects(objects);
    const planned = await span(opts, "apply.plan", () =>
      mapLimit(sorted, this.concurrency, (o) =>
        this.plan(o, opts).catch((error: unknown): Planned => ({ error: error as Error })),
      ),
    );
    const errors = planned.flatMap((p) => ("error" in p ? [p.error] : []));
    const entries = planned.flatMap((p) => ("entry" in p ? [p.entry] : []));
    // Any dry-run failure stops the stage before a single write: nothing of it was created or configured, so the
    // change set (and the Event and message built from it) is empty.
    if (errors.length > 0) throw new ApplySetError(errors.map((e) => e.message).join("\n"), [], errors);
    // Writes run --concurrent-ssa at a time, one wave of kinds after another (applyWaves): a kind the sort puts
    // before another is still written before it (ConfigMaps before the Deployments mounting them, webhook
    // configurations after everything else), while the objects of one kind go in parallel.
    const toWrite = planned.filter((p): p is { entry: ChangeSetEntry; apply: KubeObject } => "apply" in p && !!p.apply);
    const writeErrors = new Map<ChangeSetEntry, Error>();
    for (const wave of applyWaves(toWrite, (p) => p.apply)) {
      await span(opts, "apply.write", () => this.writeWave(wave, opts, writeErrors));
    }
    // Reported in apply order, whatever order the parallel requests finished in.
    for (const p of toWrite) {
      const error = writeErrors.get(p.entry);
      if (error) errors.push(error);
    }
    const failed = new Set(writeErrors.keys());
    // What failed was not created or configured: the change set (and the Event) tell only what was done.
    const done = entries.filter((e) => !failed.has(e));
    if (errors.length > 0) throw new ApplySetError(errors.map((e) => e.message).join("\n"), done, errors);
    return entries;
  }

  /** Writes one wave --concurrent-ssa at a time; a failed write is recorded in `errors`, the others go on. */
  private async writeWave(
    wave: readonly { entry: ChangeSetEntry; apply: KubeObject }[],
    opts: ApplyOptions,
    errors: Map<ChangeSetEntry, Error>,
  ): Promise<void> {
    await mapLimit(wave, this.concurrency, async (p) => {
      try {
        await opts.beforeWrite?.();
        await this.options.beforeWrite?.(p.apply);
        const applied = await this.client.apply(p.apply, { fieldManager: this.options.fieldManager, force: true });
        this.options.onWrite?.(applied);
        const live = liveVersionOf(applied);
        if (live) p.entry.live = live;
      } catch (cause) {
        errors.set(
          p.entry,
          new ReconcileError(`${fmtObject(p.apply)} apply failed: ${(cause as Error).message}`, {
            reason: KustomizationReasons.ReconciliationFailed,
            cause,
          }),
        );
      }
    });
  }

  /**
   * Dry-runs the object, then reads the live one only when the dry-run says it exists: an object about to be created
   * costs one request here instead of two (the read of an object that is not there), which is a third of the requests
   * of a first apply. (Flux reads every object before its dry-run.) The read still comes before any decision: the
   * skip rules, the comparison and the cleanup all see the live object. Objects whose own marks may leave them alone
   * (`ssa: IfNotPresent`, `Ignore`, `reconcile: disabled` in the source) are read first, so that what is to be
   * skipped is never dry-run, and so is every second attempt.
   */
  private async plan(desired: KubeObject, opts: ApplyOptions, attempt = 0): Promise<Planned> {
    const ref = refOf(desired);
    const read = () => this.client.get(ref).catch(() => undefined);
    const readFirst = attempt > 0 || this.mayLeaveAlone(desired, opts);
    let existing = readFirst ? await read() : undefined;
    if (readFirst && this.shouldSkip(desired, existing, opts)) return { entry: entry(existing ?? desired, "skipped") };

    let dryRun: KubeObject;
    try {
      dryRun = await this.dryRun(desired);
    } catch (err) {
      return this.dryRunFailed(desired, readFirst ? { existing } : undefined, err, opts);
    }

    const dryRunVersion = dryRun.metadata.resourceVersion;
    // No resourceVersion: the dry-run created it, so the object is not there and there is nothing to read.
    if (!readFirst && !dryRunVersion) return { entry: entry(desired, "created"), apply: desired };
    if (!readFirst) {
      existing = await read();
      if (this.shouldSkip(desired, existing, opts)) return { entry: entry(existing ?? desired, "skipped") };
    }
    // The object changed between the dry-run and the read (a controller annotating a fresh Deployment, say), or
    // between the read and the dry-run on a second attempt: the comparison would see that change as drift. Plan it
    // again, once, reading first.
    if (dryRunVersion && existing?.metadata.resourceVersion !== dryRunVersion && attempt === 0) {
      return this.plan(desired, opts, attempt + 1);
    }
    const patched = existing ? await this.cleanup(desired, existing, opts) : false;
    if (!patched && !hasDrifted(existing, dryRun, opts.ignore)) {
      const unchanged = entry(desired, "unchanged");
      const live = liveVersionOf(existing);
      if (live) unchanged.live = live;
      return { entry: unchanged };
    }
    return { entry: entry(desired, dryRunVersion ? "configured" : "created"), apply: desired };
  }

  /**
   * A failed dry-run: skipped when the live object is marked to be left alone, recreated when an immutable field
   * changed and force allows it, an error otherwise. `live` is the read already made, if any.
   */
  private async dryRunFailed(
    desired: KubeObject,
    live: { existing: KubeObject | undefined } | undefined,
    err: unknown,
    opts: ApplyOptions,
  ): Promise<Planned> {
    let existing = live?.existing;
    if (!live) {
      existing = await this.client.get(refOf(desired)).catch(() => undefined);
      if (this.shouldSkip(desired, existing, opts)) return { entry: entry(existing ?? desired, "skipped") };
    }
    if (!existing || !this.shouldForce(desired, existing, opts, err)) {
      return {
        error: new ReconcileError(
          `${fmtObject(desired)} dry-run failed (${reasonOf(err)}): ${(err as Error).message}`,
          {
            reason: KustomizationReasons.ReconciliationFailed,
            cause: err,
          },
        ),
      };
    }
    await this.recreate(existing, opts);
    return this.plan(desired, opts);
  }

  /** The desired object carries a mark that may leave it alone (exclusion, ssa: IfNotPresent). */
  private mayLeaveAlone(desired: KubeObject, opts: ApplyOptions): boolean {
    return (
      anyInMetadata(desired, opts.exclusionSelector ?? {}) || anyInMetadata(desired, opts.ifNotPresentSelector ?? {})
    );
  }

  private dryRun(obj: KubeObject): Promise<KubeObject> {
    return this.client.apply(obj, { fieldManager: this.options.fieldManager, force: true, dryRun: true });
  }

  private shouldSkip(desired: KubeObject, existing: KubeObject | undefined, opts: ApplyOptions): boolean {
    const exclusion = opts.exclusionSelector ?? {};
    if (anyInMetadata(desired, exclusion) || anyInMetadata(existing, exclusion)) return true;
    return !!existing?.metadata.uid && anyInMetadata(desired, opts.ifNotPresentSelector ?? {});
  }

  private shouldForce(desired: KubeObject, existing: KubeObject, opts: ApplyOptions, err: unknown): boolean {
    if (!isImmutableError(err)) return false;
    const selector = opts.forceSelector ?? {};
    return !!opts.force || anyInMetadata(desired, selector) || anyInMetadata(existing, selector);
  }

  /** Deletes and waits until the object is gone (finalizers included), so the next apply creates it anew. */
  private async recreate(existing: KubeObject, opts: ApplyOptions): Promise<void> {
    const ref = refOf(existing);
    await opts.beforeWrite?.();
    try {
      this.options.onDelete?.(existing);
      await this.client.delete(ref, { propagationPolicy: "Background" });
    } catch (cause) {
      if (!isNotFound(cause)) {
        throw new ReconcileError(
          `${fmtObject(existing)} immutable field detected, failed to delete object: ${(cause as Error).message}`,
          { reason: KustomizationReasons.ReconciliationFailed, cause },
        );
      }
    }
    const deadline = Date.now() + (opts.waitTimeoutMs ?? 60_000);
    while (await this.client.get(ref)) {
      if (Date.now() > deadline) {
        throw new ReconcileError(
          `${fmtObject(existing)} immutable field detected, timed out waiting for the object to be deleted`,
          { reason: KustomizationReasons.ReconciliationFailed },
        );
      }
      await sleep(opts.waitIntervalMs ?? 500, undefined, { signal: opts.signal });
    }
  }

  private async cleanup(desired: KubeObject, existing: KubeObject, opts: ApplyOptions): Promise<boolean> {
    const c = opts.cleanup;
    if (!c) return false;
    const exclusions = c.exclusions ?? {};
    if (anyInMetadata(desired, exclusions) || anyInMetadata(existing, exclusions)) return false;
    const patch = cleanupPatch(existing, this.options.fieldManager, c);
    if (!patch) return false;
    await opts.beforeWrite?.();
    try {
      const patched = await this.client.mergePatch(refOf(existing), patch, { fieldManager: this.options.fieldManager });
      this.options.onWrite?.(patched);
    } catch (cause) {
      throw new ReconcileError(
        `${fmtObject(existing)} metadata.managedFields cleanup failed: ${(cause as Error).message}`,
        { reason: KustomizationReasons.ReconciliationFailed, cause },
      );
    }
    return true;
  }

  /** Deletes our objects among refs, in reverse apply order; objects gone, foreign or excluded are not touched. */
  async deleteAll(refs: readonly ObjectRef[], opts: DeleteOptions): Promise<ChangeSetEntry[]> {
    const asObjects = refs.map(
      (r): KubeObject => ({
        apiVersion: r.apiVersion,
        kind: r.kind,
        metadata: r.namespace ? { name: r.name, namespace: r.namespace } : { name: r.name },
      }),
    );
    const ordered = [...asObjects].sort(compareObjects).reverse();
    const entries: ChangeSetEntry[] = [];
    const errors: Error[] = [];
    for (const o of ordered) {
      try {
        const live = await this.client.get(refOf(o));
        if (!live || live.metadata.deletionTimestamp) continue;
        const labels = live.metadata.labels ?? {};
        const ours = Object.entries(opts.inclusions).every(([k, v]) => labels[k] === v);
        if (!ours || anyInMetadata(live, opts.exclusions ?? {})) {
          entries.push(entry(live, "skipped"));
          continue;
        }
        // Noted before the request: the watch event may arrive before the response does.
        this.options.onDelete?.(live);
        if (await this.client.delete(refOf(o), { propagationPolicy: opts.propagationPolicy ?? "Background" })) {
          entries.push(entry(o, "deleted"));
        }
      } catch (cause) {
        errors.push(
          new ReconcileError(`${fmtObject(o)} deletion failed: ${(cause as Error).message}`, {
            reason: KustomizationReasons.PruneFailed,
            cause,
          }),
        );
      }
    }
    if (errors.length > 0)
      throw new ReconcileError(errors.map((e) => e.message).join("\n"), {
        reason: KustomizationReasons.PruneFailed,
        cause: errors[0],
      });
    return entries;
  }

  /** Resolves once none of refs exists any more (deletionPolicy WaitForTermination). */
  async waitForTermination(
    refs: readonly ObjectRef[],
    timeoutMs: number,
    intervalMs = 1000,
    signal?: AbortSignal,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const remaining = (await Promise.all(refs.map(async (r) => ((await this.client.get(r)) ? r : undefined)))).filter(
        (r): r is ObjectRef => r !== undefined,
      );
      if (remaining.length === 0) return;
      if (Date.now() > deadline) {
        const names = remaining.map((r) => fmtObject({ kind: r.kind, metadata: r })).join(", ");
        throw new ReconcileError(`timeout waiting for termination of: [${names}]`, {
          reason: KustomizationReasons.PruneFailed,
        });
      }
      await sleep(intervalMs, undefined, { signal });
    }
  }
}
