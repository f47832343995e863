// Lease-based leader election on coordination.k8s.io/v1, as client-go's leaderelection package does it: every write
// carries the resourceVersion read just before, so two candidates can never both succeed; a leader that cannot renew
// within renewDeadline steps down; a clean stop releases the Lease so a successor takes over at once.
import { performance } from "node:perf_hooks";
import { isAlreadyExists, isConflict } from "../client/errors.js";
import type { Client, KubeObject, Logger } from "../contracts.js";
import { acquiredSpec, heldByOther, type LeaseSpec, recordFingerprint } from "./lease-record.js";

export interface LeaderElectionOptions {
  leaseName: string;
  namespace: string;
  /** Unique per candidate: usually the pod name plus a random suffix. */
  identity: string;
  /** How long a lease holds once renewed. Default 35s (Flux). */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it steps down. Default 30s; must be below leaseDurationMs. */
  renewDeadlineMs?: number;
  /** Pause between attempts. Default 5s. */
  retryPeriodMs?: number;
  /** Clear the holder on stop() so that a successor need not wait for the lease to expire. Default true. */
  releaseOnStop?: boolean;
  onStartedLeading?: () => void;
  /** Called once when leadership ends, by stop() or by failing to renew. The process should stop reconciling. */
  onStoppedLeading?: () => void;
  onNewLeader?: (identity: string) => void;
  logger?: Logger;
}

type State = "idle" | "candidate" | "leading" | "done";

const leaseApiVersion = "coordination.k8s.io/v1";
const jitterFactor = 1.2;

export class LeaderElector {
  private state: State = "idle";
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private observed: { fingerprint: string; at: number; spec: LeaseSpec | undefined } | undefined;
  private lastLeader: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private readonly leadingWaiters: { resolve(): void; reject(err: Error): void }[] = [];
  private readonly doneWaiters: (() => void)[] = [];
  private loop: Promise<void> | undefined;
  private acquiredOnce = false;

  constructor(
    private readonly client: Client,
    private readonly o: LeaderElectionOptions,
  ) {
    this.leaseDurationMs = o.leaseDurationMs ?? 35_000;
    this.renewDeadlineMs = o.renewDeadlineMs ?? 30_000;
    this.retryPeriodMs = o.retryPeriodMs ?? 5_000;
    if (!(this.renewDeadlineMs < this.leaseDurationMs)) {
      throw new Error("leader election: renewDeadline must be shorter than leaseDuration");
    }
    if (!(this.retryPeriodMs * jitterFactor < this.renewDeadlineMs)) {
      throw new Error("leader election: retryPeriod × 1.2 must be shorter than renewDeadline");
    }
  }

  get identity(): string {
    return this.o.identity;
  }

  isLeader(): boolean {
    return this.state === "leading";
  }

  /** The holder last seen on the Lease. */
  leader(): string | undefined {
    return this.lastLeader;
  }

  /** Starts campaigning. */
  start(): void {
    if (this.state !== "idle") return;
    this.state = "candidate";
    this.loop = this.run();
  }

  /** Resolves when this candidate becomes the leader; rejects if the elector stops first. */
  leading(): Promise<void> {
    if (this.state === "leading") return Promise.resolve();
    if (this.state === "done") return Promise.reject(new Error("leader election: stopped before leading"));
    return new Promise((resolve, reject) => this.leadingWaiters.push({ resolve, reject }));
  }

  /** Resolves when the elector is done: after stop(), or after it lost the lease. */
  done(): Promise<void> {
    if (this.state === "done") return Promise.resolve();
    return new Promise((resolve) => this.doneWaiters.push(resolve));
  }

  /**
   * Stops campaigning or leading. When leading and `release` (default: releaseOnStop, itself default true), clears the
   * Lease's holder so a successor takes over on its next attempt instead of after the lease duration.
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    const wasLeading = this.state === "leading";
    if (this.state === "done" || this.state === "idle") {
      this.finish(false);
      return;
    }
    this.state = "done";
    clearTimeout(this.timer);
    this.wake?.();
    await this.loop?.catch(() => undefined);
    if (this.acquiredOnce && (options.release ?? this.o.releaseOnStop ?? true)) await this.release();
    this.finish(wasLeading);
  }

  private async run(): Promise<void> {
    // Campaign.
    while (this.state === "candidate") {
      const acquired = await this.attempt();
      // stop() may have come while the attempt was in flight; it then releases what the attempt took.
      if (acquired && this.state === "candidate") {
        this.state = "leading";
        this.log("info", "became leader");
        for (const w of this.leadingWaiters.splice(0)) w.resolve();
        this.safely(() => this.o.onStartedLeading?.());
        break;
      }
      await this.sleep(this.retryPeriodMs * (1 + Math.random() * jitterFactor));
    }
    // Renew, until a renewal does not succeed within renewDeadline.
    let lastRenew = performance.now();
    while (this.state === "leading") {
      await this.sleep(this.retryPeriodMs);
      if (this.state !== "leading") return;
      const started = performance.now();
      const remaining = this.renewDeadlineMs - (started - lastRenew);
      const renewed = remaining > 0 && (await this.withDeadline(this.attempt(), remaining));
      if (this.state !== "leading") return;
      if (renewed) {
        lastRenew = started;
      } else if (performance.now() - lastRenew >= this.renewDeadlineMs) {
        this.log("warn", `failed to renew the lease within ${this.renewDeadlineMs}ms; stepping down`);
        this.state = "done";
        this.finish(true);
        return;
      }
    }
  }

  /** One try to acquire or renew. False when someone else holds it or another write won the race. */
  private async attempt(): Promise<boolean> {
    const ref = { apiVersion: leaseApiVersion, kind: "Lease", name: this.o.leaseName, namespace: this.o.namespace };
    const durationSeconds = Math.ceil(this.leaseDurationMs / 1000);
    try {
      const lease = await this.client.get<KubeObject & { spec?: LeaseSpec }>(ref);
      const now = performance.now();
      if (!lease) {
        const spec = acquiredSpec(undefined, this.o.identity, durationSeconds, new Date());
        await this.client.create({
          apiVersion: leaseApiVersion,
          kind: "Lease",
          metadata: { name: ref.name, namespace: ref.namespace },
          spec,
        });
        this.observe(spec, now);
        this.acquiredOnce = true;
        return true;
      }
      this.observe(lease.spec, now);
      if (heldByOther(lease.spec, this.o.identity, this.observed?.at ?? now, now)) return false;
      const spec = acquiredSpec(lease.spec, this.o.identity, durationSeconds, new Date());
      // The resourceVersion makes this write conditional: if anyone wrote since our read, it fails with Conflict.
      await this.client.mergePatch(ref, { metadata: { resourceVersion: lease.metadata.resourceVersion }, spec });
      this.observe(spec, now);
      this.acquiredOnce = true;
      return true;
    } catch (err) {
      if (!isConflict(err) && !isAlreadyExists(err)) this.log("warn", "lease request failed", err);
      return false;
    }
  }

  private async release(): Promise<void> {
    const ref = { apiVersion: leaseApiVersion, kind: "Lease", name: this.o.leaseName, namespace: this.o.namespace };
    try {
      const lease = await this.client.get<KubeObject & { spec?: LeaseSpec }>(ref);
      if (lease?.spec?.holderIdentity !== this.o.identity) return;
      await this.client.mergePatch(ref, {
        metadata: { resourceVersion: lease.metadata.resourceVersion },
        spec: { holderIdentity: null, leaseDurationSeconds: 1 },
      });
      this.log("info", "released the lease");
    } catch (err) {
      this.log("warn", "could not release the lease; a successor waits for it to expire", err);
    }
  }

  private observe(spec: LeaseSpec | undefined, now: number): void {
    const fingerprint = recordFingerprint(spec);
    if (this.observed?.fingerprint !== fingerprint) this.observed = { fingerprint, at: now, spec };
    const holder = spec?.holderIdentity ?? undefined;
    if (holder && holder !== this.lastLeader) {
      this.lastLeader = holder;
      this.safely(() => this.o.onNewLeader?.(holder));
    }
  }

  private finish(wasLeading: boolean): void {
    clearTimeout(this.timer);
    for (const w of this.leadingWaiters.splice(0)) w.reject(new Error("leader election: stopped before leading"));
    if (wasLeading) this.safely(() => this.o.onStoppedLeading?.());
    for (const w of this.doneWaiters.splice(0)) w();
    this.state = "done";
  }

  private withDeadline(p: Promise<boolean>, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      p.then(
        (v) => {
          clearTimeout(t);
          resolve(v);
        },
        () => {
          clearTimeout(t);
          resolve(false);
        },
      );
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(this.timer);
        this.wake = undefined;
        resolve();
      };
      this.timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log("error", "leader election callback threw", err);
    }
  }

  private log(level: "info" | "warn" | "error", message: string, err?: unknown): void {
    const fields: Record<string, unknown> = {
      lease: `${this.o.namespace}/${this.o.leaseName}`,
      identity: this.o.identity,
    };
    if (err !== undefined) fields.error = err instanceof Error ? err.message : String(err);
    this.o.logger?.[level](fields, message);
  }
}
