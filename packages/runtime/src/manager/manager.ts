import { createHash, randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { KubeClient } from "../client/kube-client.js";
import type { Client, EventRecorder, Informer, KubeObject, ResourceType } from "../contracts.js";
import { createEventRecorder, type KubeEventRecorder } from "../events/index.js";
import { type CommonFlags, runtimeNamespace } from "../flags/common.js";
import { createInformer, stripManagedFields } from "../informer/index.js";
import type { WithConditions } from "../reconcile/conditions.js";
import { Controller } from "../reconcile/controller.js";
import type { ReconcilerDefinition } from "../reconcile/types.js";
import { HealthChecks } from "../server/health.js";
import { type RunningServer, serve } from "../server/http.js";
import { metricsRoute } from "../server/metrics.js";
import { createLogger, type LogEncoding, type Logger, type LogLevel } from "../telemetry/logger.js";
import { Metrics } from "../telemetry/metrics.js";
import { leaseElector } from "./lease-elector.js";
import type {
  Elector,
  ElectorFactory,
  EventRecorderFactory,
  InformerFactory,
  ManagedInformerUse,
  InformerOptions as ManagerInformerOptions,
  Runnable,
} from "./types.js";

export interface ManagerOptions {
  /** The controller binary's name ("source-controller"): field manager, Lease name prefix, Event source. */
  name: string;
  flags: CommonFlags;
  client: Client;
  /** Default: informer/'s createInformer, logging through the manager's logger. */
  informers?: InformerFactory;
  /** Default: events/'s createEventRecorder (core/v1 Events, aggregated, spam-filtered). */
  events?: EventRecorderFactory;
  /** Default: leader/'s LeaderElector on a coordination.k8s.io Lease. */
  elector?: ElectorFactory;
  logger?: Logger;
  metrics?: Metrics;
  env?: NodeJS.ProcessEnv;
  /** Stop on SIGTERM/SIGINT (default true; tests running several managers in one process turn it off). */
  handleSignals?: boolean;
}

type State = "new" | "starting" | "running" | "stopping" | "stopped";

/**
 * Wires one controller process: informers (on every replica), work queues and workers (only on the leader),
 * /healthz + /readyz (ready once every cache has synced), /metrics, and the lifecycle: SIGTERM or SIGINT stops
 * intake, drains in-flight reconciles, releases the Lease and lets start() resolve, so main exits 0.
 */
export class Manager {
  readonly name: string;
  readonly client: Client;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly health = new HealthChecks();
  readonly flags: CommonFlags;
  /** Watched namespace: undefined for all (--watch-all-namespaces), else the runtime namespace. */
  readonly watchNamespace: string | undefined;
  readonly #opts: ManagerOptions;
  readonly #informers = new Map<string, Informer>();
  readonly #controllers: Controller<WithConditions, unknown>[] = [];
  readonly #servers: RunningServer[] = [];
  readonly #runnables: Runnable[] = [];
  /** Runnables whose start() was called, in start order (stopped in reverse). */
  readonly #started: Runnable[] = [];
  readonly #recorders: EventRecorder[] = [];
  readonly #abort = new AbortController();
  #elector: Elector | undefined;
  #state: State = "new";
  #done!: { resolve: () => void; reject: (err: Error) => void };
  #stopping: Promise<void> | undefined;

  constructor(options: ManagerOptions) {
    this.#opts = options;
    this.name = options.name;
    this.flags = options.flags;
    this.client = options.client;
    this.log =
      options.logger ??
      createLogger({ level: options.flags.logLevel as LogLevel, encoding: options.flags.logEncoding as LogEncoding });
    // The client says once, through the manager's logger, when the apiserver's flow control replaces its limiter.
    if (this.client instanceof KubeClient) this.client.setLogger(this.log);
    this.metrics = options.metrics ?? new Metrics();
    this.watchNamespace = options.flags.watchAllNamespaces
      ? undefined
      : runtimeNamespace(options.flags, options.env ?? process.env);
    this.health.addReadinessCheck("informers", () => {
      const pending = [...this.#informers].filter(([, i]) => !i.hasSynced()).map(([k]) => k);
      return pending.length ? `caches not synced: ${pending.join(", ")}` : undefined;
    });
  }

  /**
   * The shared informer of a kind (in the watched namespace, with the shard selector); built on first use.
   * `ignoreLabelSelector`: leave --watch-label-selector out, for what a controller reads but does not reconcile
   * (Secrets, ConfigMaps, the sources of another controller): as in Flux, the selector shards only the reconciled kinds.
   */
  informer<T extends KubeObject = KubeObject>(type: ResourceType, options: ManagedInformerUse = {}): Informer<T> {
    const labelSelector = options.ignoreLabelSelector ? undefined : this.flags.watchLabelSelector || undefined;
    // Filtered and unfiltered informers of one kind are distinct caches; without a selector they are the same one.
    const key = `${type.group}/${type.version}/${type.plural}${labelSelector ? `?labelSelector=${labelSelector}` : ""}${options.keepManagedFields ? "#managedFields" : ""}`;
    let informer = this.#informers.get(key);
    if (!informer) {
      const factory: InformerFactory =
        this.#opts.informers ??
        (<U extends KubeObject>(client: Client, t: ResourceType, o: ManagerInformerOptions) =>
          createInformer<U>(client, t, { ...o, logger: this.log }));
      informer = factory<KubeObject>(this.client, type, {
        ...(type.namespaced && this.watchNamespace ? { namespace: this.watchNamespace } : {}),
        ...(labelSelector ? { labelSelector } : {}),
        ...(options.keepManagedFields ? {} : { transform: stripManagedFields }),
      });
      this.#informers.set(key, informer);
      if (this.#state === "starting" || this.#state === "running") void this.#startInformer(key, informer);
    }
    return informer as unknown as Informer<T>;
  }

  /** Adds a controller; call before start(). */
  register<T extends WithConditions, S>(def: ReconcilerDefinition<T, S>): Controller<T, S> {
    if (this.#state !== "new") throw new Error(`manager: register ${def.name} before start()`);
    const factory: EventRecorderFactory =
      this.#opts.events ?? ((client, controller) => createEventRecorder(client, { controller, logger: this.log }));
    const events: EventRecorder = factory(this.client, this.name);
    this.#recorders.push(events);
    const controller = new Controller<T, S>(def, {
      client: this.client,
      informer: this.informer<T>(def.type),
      watchInformers: (def.watches ?? []).map((w) =>
        this.informer(w.type, w.ignoreLabelSelector ? { ignoreLabelSelector: true } : {}),
      ),
      events,
      log: this.log,
      metrics: this.metrics,
      fieldManager: this.name,
      concurrency: this.flags.concurrent,
      backoff: { baseDelayMs: this.flags.minRetryDelay, maxDelayMs: this.flags.maxRetryDelay },
      signal: this.#abort.signal,
    });
    this.#controllers.push(controller as unknown as Controller<WithConditions, unknown>);
    return controller;
  }

  /**
   * Adds a runnable (see Runnable): started on every replica once the informers have synced, or, when `leaderOnly`,
   * with the controllers on the leader; stopped on shutdown. Call before start().
   */
  add(runnable: Runnable): void {
    if (this.#state !== "new") throw new Error(`manager: add ${runnable.name ?? "runnable"} before start()`);
    this.#runnables.push(runnable);
  }

  /** Runs until stop() or a signal; resolves after a clean stop, rejects if leadership is lost or startup fails. */
  async start(): Promise<void> {
    if (this.#state !== "new") throw new Error("manager: start() called twice");
    this.#state = "starting";
    const done = new Promise<void>((resolve, reject) => {
      this.#done = { resolve, reject };
    });
    const onSignal = (signal: NodeJS.Signals) => {
      this.log.info({ signal }, "shutdown signal received, draining");
      void this.stop();
    };
    if (this.#opts.handleSignals ?? true) {
      process.once("SIGTERM", onSignal);
      process.once("SIGINT", onSignal);
    }
    try {
      await this.#startServers();
      await Promise.all([...this.#informers].map(([key, informer]) => this.#startInformer(key, informer)));
      if (this.#state !== "starting") return await done;
      this.#state = "running";
      await this.#startRunnables(false);
      if (this.#state !== "running") return await done;
      this.#startControllersOrCampaign();
      return await done;
    } catch (err) {
      await this.stop();
      throw err;
    } finally {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    }
  }

  #startControllersOrCampaign(): void {
    if (!this.flags.leaderElect && !this.flags.enableLeaderElection) {
      this.#startControllers();
      return;
    }
    const namespace = runtimeNamespace(this.flags, this.#opts.env ?? process.env);
    const identity = `${hostname()}_${randomUUID()}`;
    const lease = leaseName(this.name, this.flags.watchLabelSelector);
    this.#elector = (this.#opts.elector ?? leaseElector(this.log))(this.client, {
      name: lease,
      namespace,
      identity,
      leaseDurationMs: this.flags.leaderElectionLeaseDuration,
      renewDeadlineMs: this.flags.leaderElectionRenewDeadline,
      retryPeriodMs: this.flags.leaderElectionRetryPeriod,
    });
    this.log.info({ identity, lease: `${namespace}/${lease}` }, "attempting to acquire leader lease");
    this.#elector.run({
      onStartedLeading: () => {
        this.log.info({ identity }, "successfully acquired lease");
        this.#startControllers();
      },
      onStoppedLeading: () => {
        if (this.#state === "stopping" || this.#state === "stopped") return; // our own release()
        // Another replica may be leading already: stop at once, without waiting for a drain.
        this.log.error({ identity }, "leader election lost");
        this.#abort.abort(new Error("leader election lost"));
        void this.#shutdown(new Error("leader election lost"));
      },
    });
  }

  #startControllers(): void {
    if (this.#state !== "running") return;
    for (const c of this.#controllers) {
      this.log.info({ controller: c.name, workers: this.flags.concurrent }, "Starting workers");
      c.start();
    }
    this.#startRunnables(true).catch((err: Error) => void this.#shutdown(err));
  }

  async #startRunnables(leaderOnly: boolean): Promise<void> {
    for (const r of this.#runnables) {
      if (Boolean(r.leaderOnly) !== leaderOnly) continue;
      if (this.#state !== "running") return;
      this.#started.push(r);
      try {
        await r.start(this.#abort.signal);
      } catch (cause) {
        const err = new Error(`start ${r.name ?? "runnable"}: ${(cause as Error).message}`, { cause });
        this.log.error({ runnable: r.name, err: err.message }, "runnable failed to start");
        throw err;
      }
    }
  }

  /** Stops the started runnables of one kind, last started first; a failing stop is logged, not fatal. */
  async #stopRunnables(leaderOnly: boolean): Promise<void> {
    const mine = this.#started.filter((r) => Boolean(r.leaderOnly) === leaderOnly).reverse();
    for (const r of mine) {
      try {
        await r.stop();
      } catch (err) {
        this.log.error({ runnable: r.name, err: (err as Error).message }, "runnable failed to stop");
      }
    }
  }

  async #startInformer(key: string, informer: Informer): Promise<void> {
    const started = performance.now();
    await informer.start();
    this.log.debug({ informer: key, ms: Math.round(performance.now() - started) }, "cache synced");
  }

  async #startServers(): Promise<void> {
    const { healthAddr, metricsAddr } = this.flags;
    const health = this.health.routes();
    const metrics = { "/metrics": metricsRoute(this.metrics) };
    const plan: [string, Record<string, ReturnType<typeof metricsRoute>>][] =
      healthAddr === metricsAddr
        ? [[healthAddr, { ...health, ...metrics }]]
        : [
            [healthAddr, health],
            [metricsAddr, metrics],
          ];
    for (const [addr, routes] of plan) {
      const server = await serve(addr, routes);
      if (server) {
        this.#servers.push(server);
        this.log.info({ addr, url: server.url, paths: Object.keys(routes) }, "serving");
      }
    }
  }

  /** Where the servers listen, once started (for tests that bind to :0). */
  get urls(): { health?: string; metrics?: string } {
    const [first, second] = this.#servers;
    const same = this.flags.healthAddr === this.flags.metricsAddr;
    return { health: first?.url, metrics: same ? first?.url : second?.url };
  }

  /** Stops intake, drains in-flight reconciles, releases the Lease, stops informers and servers. Idempotent. */
  stop(): Promise<void> {
    return this.#shutdown(undefined);
  }

  #shutdown(failure: Error | undefined): Promise<void> {
    this.#stopping ??= (async () => {
      this.#state = "stopping";
      await Promise.all([...this.#controllers.map((c) => c.stop()), this.#stopRunnables(true)]);
      if (!failure)
        await this.#elector?.release().catch((err: unknown) => {
          this.log.error({ err: (err as Error).message }, "release leader lease");
        });
      await this.#stopRunnables(false);
      for (const informer of this.#informers.values()) informer.stop();
      // Events are written in the background; the last reconciles' ones should not be lost on exit.
      await Promise.all(this.#recorders.map((r) => (r as Partial<KubeEventRecorder>).flush?.().catch(() => undefined)));
      await Promise.all(this.#servers.map((s) => s.close()));
      this.#state = "stopped";
      this.log.info({}, failure ? "stopped after failure" : "stopped");
      if (failure) this.#done?.reject(failure);
      else this.#done?.resolve();
    })();
    return this.#stopping;
  }
}

/**
 * The leader-election Lease: `<controller>-leader-election`, and with --watch-label-selector one Lease per selector
 * (a suffix from its hash), as Flux's controllers do, so that shards each elect their own leader instead of one shard
 * leading and the others idling.
 */
export function leaseName(controller: string, watchLabelSelector?: string): string {
  const base = `${controller}-leader-election`;
  if (!watchLabelSelector) return base;
  return `${base}-${createHash("sha256").update(watchLabelSelector).digest("hex").slice(0, 10)}`;
}
