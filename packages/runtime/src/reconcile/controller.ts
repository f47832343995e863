import type { Client, EventRecorder, Informer, KubeObject, ObjectKey } from "../contracts.js";
import { objectKey } from "../contracts.js";
import type { BackoffOptions } from "../queue/rate-limiter.js";
import { WorkQueue } from "../queue/work-queue.js";
import { startWorkers, type WorkerPool } from "../queue/workers.js";
import type { Logger } from "../telemetry/logger.js";
import type { Metrics } from "../telemetry/metrics.js";
import type { WithConditions } from "./conditions.js";
import { specOrRequestChanged } from "./object.js";
import { createReconcileHandler } from "./reconciler.js";
import type { ReconcilerDefinition, Watch } from "./types.js";

export interface ControllerDeps<T extends WithConditions> {
  client: Client;
  /** The informer of the controller's own kind. */
  informer: Informer<T>;
  /** One informer per definition.watches entry, same order. */
  watchInformers?: readonly Informer[];
  events: EventRecorder;
  log: Logger;
  metrics: Metrics;
  fieldManager: string;
  /** Reconciles doing work at once (--concurrent); a parked reconcile (ReconcileContext.park) does not count. */
  concurrency: number;
  /** (Capstan) Most reconciles parked at once; default the runtime's defaultParkedPerWorker × concurrency. */
  maxParked?: number;
  backoff?: BackoffOptions;
  signal?: AbortSignal;
}

/**
 * One controller: informer events become keys in its queue (as soon as it is built, so a standby replica's queue
 * is warm), and start() runs the workers that reconcile them. Event callbacks only enqueue.
 */
export class Controller<T extends WithConditions = WithConditions, S = Record<string, unknown>> {
  readonly name: string;
  readonly queue: WorkQueue<ObjectKey>;
  readonly #def: ReconcilerDefinition<T, S>;
  readonly #deps: ControllerDeps<T>;
  #pool: WorkerPool | undefined;

  constructor(def: ReconcilerDefinition<T, S>, deps: ControllerDeps<T>) {
    this.name = def.name;
    this.#def = def;
    this.#deps = deps;
    this.queue = new WorkQueue<ObjectKey>({ metrics: deps.metrics.queueMetrics(def.name), backoff: deps.backoff });
    const shouldEnqueue = def.shouldEnqueue ?? specOrRequestChanged;
    deps.informer.addHandlers({
      onAdd: (obj) => this.queue.add(objectKey(obj)),
      onUpdate: (oldObj, newObj) => {
        if (shouldEnqueue(oldObj, newObj)) this.queue.add(objectKey(newObj));
      },
      onDelete: (obj) => this.queue.add(objectKey(obj)),
    });
    (def.watches ?? []).forEach((watch, i) => {
      const informer = deps.watchInformers?.[i];
      if (!informer) throw new Error(`controller ${def.name}: no informer for watch #${i} (${watch.type.kind})`);
      this.#bindWatch(watch, informer);
    });
  }

  #bindWatch(watch: Watch<T>, informer: Informer): void {
    const own = this.#deps.informer.cache;
    const enqueue = (obj: KubeObject) => {
      for (const key of watch.map(obj, own)) this.queue.add(key);
    };
    informer.addHandlers({
      onAdd: enqueue,
      onUpdate: (oldObj, newObj) => {
        if (!watch.shouldEnqueue || watch.shouldEnqueue(oldObj, newObj)) enqueue(newObj);
      },
      onDelete: enqueue,
    });
  }

  /** Starts the workers (only the leader calls this). */
  start(): void {
    if (this.#pool) return;
    const deps = this.#deps;
    const setActive = deps.metrics.workers(this.name, deps.concurrency);
    const handle = createReconcileHandler(this.#def, {
      client: deps.client,
      cache: deps.informer.cache,
      events: deps.events,
      log: deps.log,
      metrics: deps.metrics,
      fieldManager: this.#def.fieldManager ?? deps.fieldManager,
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
    const setParked = deps.metrics.parkedReconciles(this.name);
    this.#pool = startWorkers(
      this.queue,
      deps.concurrency,
      (key, lease) => {
        const queueWaitSeconds = this.queue.takeWait(key);
        const requestedAt = this.queue.takeRequestedAt(key);
        return handle(key, {
          ...(queueWaitSeconds === undefined ? {} : { queueWaitSeconds }),
          ...(requestedAt === undefined ? {} : { requestedAt }),
          park: (wait) => lease.park(wait),
        });
      },
      (key, err) => deps.log.error({ controller: this.name, key, err: (err as Error).message }, "worker failed"),
      {
        ...(deps.maxParked === undefined ? {} : { maxParked: deps.maxParked }),
        onChange: ({ active, parked }) => {
          setActive(active);
          setParked(parked);
        },
      },
    );
  }

  /** Reconciles holding a worker now, and those parked (waiting on something that costs no CPU, holding none). */
  counts(): { active: number; parked: number } {
    return { active: this.#pool?.active() ?? 0, parked: this.#pool?.parked() ?? 0 };
  }

  /** Stops intake and waits for in-flight reconciles to finish. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await this.queue.drain();
    await this.#pool?.finished;
  }
}
