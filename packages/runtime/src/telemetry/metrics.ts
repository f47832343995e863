import { Counter, collectDefaultMetrics, exponentialBuckets, Gauge, Histogram, Registry } from "prom-client";
import type { QueueMetrics } from "../queue/metrics.js";

export interface MetricsObjectRef {
  kind: string;
  name: string;
  namespace?: string;
}

export type ReconcileResultLabel = "success" | "error" | "requeue" | "requeue_after";

const conditionStatuses = ["True", "False", "Unknown", "Deleted"] as const;

/**
 * The metrics of one controller process, in its own Registry: Flux's gotk_* series, controller-runtime's
 * controller_runtime_* and workqueue_* series, and the process_/nodejs_ defaults.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #reconcileDuration: Histogram<"kind" | "name" | "namespace">;
  readonly #condition: Gauge<"kind" | "name" | "namespace" | "type" | "status">;
  readonly #reconcileTotal: Counter<"controller" | "result">;
  readonly #reconcileErrors: Counter<"controller">;
  readonly #reconcileTime: Histogram<"controller">;
  readonly #stepDuration: Histogram<"kind" | "step">;
  readonly #maxConcurrent: Gauge<"controller">;
  readonly #activeWorkers: Gauge<"controller">;
  readonly #parked: Gauge<"controller">;
  readonly #queue: {
    depth: Gauge<"name" | "controller">;
    adds: Counter<"name" | "controller">;
    queueDuration: Histogram<"name" | "controller">;
    workDuration: Histogram<"name" | "controller">;
    retries: Counter<"name" | "controller">;
  };

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    // Most controller-runtime metrics are one series per controller.
    const perController = (name: string, help: string) => ({ name, help, labelNames: ["controller"], registers });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.#reconcileDuration = new Histogram({
      name: "gotk_reconcile_duration_seconds",
      help: "The duration in seconds of a GitOps Toolkit resource reconciliation.",
      labelNames: ["kind", "name", "namespace"],
      buckets: exponentialBuckets(10e-9, 10, 10),
      registers,
    });
    this.#condition = new Gauge({
      name: "gotk_reconcile_condition",
      help: "The current condition status of a GitOps Toolkit resource reconciliation.",
      labelNames: ["kind", "name", "namespace", "type", "status"],
      registers,
    });
    this.#reconcileTotal = new Counter({
      name: "controller_runtime_reconcile_total",
      help: "Total number of reconciliations per controller",
      labelNames: ["controller", "result"],
      registers,
    });
    this.#reconcileErrors = new Counter(
      perController(
        "controller_runtime_reconcile_errors_total",
        "Total number of reconciliation errors per controller",
      ),
    );
    const reconcileBuckets = [
      0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75,
      2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
    ];
    this.#reconcileTime = new Histogram({
      name: "controller_runtime_reconcile_time_seconds",
      help: "Length of time per reconciliation per controller",
      labelNames: ["controller"],
      buckets: reconcileBuckets,
      registers,
    });
    // (Capstan) The parts of controller_runtime_reconcile_time_seconds: one series per kind and step (the steps of
    // the reconciler, spans inside them such as the artifact fetch, and the status write). Queue wait is
    // workqueue_queue_duration_seconds.
    this.#stepDuration = new Histogram({
      name: "capstan_reconcile_step_duration_seconds",
      help: "The duration in seconds of one step of a reconciliation, per kind and step (Capstan).",
      labelNames: ["kind", "step"],
      buckets: [0.001, 0.0025, ...reconcileBuckets],
      registers,
    });
    this.#maxConcurrent = new Gauge(
      perController(
        "controller_runtime_max_concurrent_reconciles",
        "Maximum number of concurrent reconciles per controller",
      ),
    );
    this.#activeWorkers = new Gauge(
      perController("controller_runtime_active_workers", "Number of currently used workers per controller"),
    );
    this.#parked = new Gauge(
      perController(
        "capstan_parked_reconciles",
        "Reconciles waiting on something that costs no CPU (a health check) without holding a worker, per controller (Capstan)",
      ),
    );
    const queueLabels = ["name", "controller"] as const;
    const perQueue = (name: string, help: string) => ({ name, help, labelNames: queueLabels, registers });
    const queueBuckets = exponentialBuckets(10e-9, 10, 12);
    this.#queue = {
      depth: new Gauge(perQueue("workqueue_depth", "Current depth of workqueue")),
      adds: new Counter(perQueue("workqueue_adds_total", "Total number of adds handled by workqueue")),
      queueDuration: new Histogram({
        ...perQueue(
          "workqueue_queue_duration_seconds",
          "How long in seconds an item stays in workqueue before being requested",
        ),
        buckets: queueBuckets,
      }),
      workDuration: new Histogram({
        ...perQueue("workqueue_work_duration_seconds", "How long in seconds processing an item from workqueue takes."),
        buckets: queueBuckets,
      }),
      retries: new Counter(perQueue("workqueue_retries_total", "Total number of retries handled by workqueue")),
    };
  }

  /** Sets the condition gauge of one object: 1 for its current status, 0 for the others; Deleted=1 once it is gone. */
  recordCondition(ref: MetricsObjectRef, type: string, status: "True" | "False" | "Unknown" | "Deleted"): void {
    for (const s of conditionStatuses) {
      this.#condition.set(
        { kind: ref.kind, name: ref.name, namespace: ref.namespace ?? "", type, status: s },
        s === status ? 1 : 0,
      );
    }
  }

  recordDuration(ref: MetricsObjectRef, seconds: number): void {
    this.#reconcileDuration.observe({ kind: ref.kind, name: ref.name, namespace: ref.namespace ?? "" }, seconds);
  }

  recordReconcile(controller: string, result: ReconcileResultLabel, seconds: number): void {
    this.#reconcileTotal.inc({ controller, result });
    if (result === "error") this.#reconcileErrors.inc({ controller });
    this.#reconcileTime.observe({ controller }, seconds);
  }

  /** One step's time in one reconcile (capstan_reconcile_step_duration_seconds). */
  recordStep(kind: string, step: string, seconds: number): void {
    this.#stepDuration.observe({ kind, step }, seconds);
  }

  /** Declares a controller's worker count and returns a setter for its busy workers. */
  workers(controller: string, max: number): (active: number) => void {
    this.#maxConcurrent.set({ controller }, max);
    this.#activeWorkers.set({ controller }, 0);
    // Zero-valued series exist from the start, as controller-runtime's do, so dashboards see the controller at once.
    this.#reconcileTotal.inc({ controller, result: "success" }, 0);
    this.#reconcileErrors.inc({ controller }, 0);
    return (active) => this.#activeWorkers.set({ controller }, active);
  }

  /** (Capstan) Declares a controller's parked-reconciles gauge and returns its setter. */
  parkedReconciles(controller: string): (parked: number) => void {
    this.#parked.set({ controller }, 0);
    return (parked) => this.#parked.set({ controller }, parked);
  }

  /** The workqueue_* series of one controller's queue. */
  queueMetrics(name: string): QueueMetrics {
    const labels = { name, controller: name };
    const q = this.#queue;
    q.depth.set(labels, 0);
    q.adds.inc(labels, 0);
    q.retries.inc(labels, 0);
    return {
      add: () => q.adds.inc(labels),
      depth: (n) => q.depth.set(labels, n),
      queued: (s) => q.queueDuration.observe(labels, s),
      worked: (s) => q.workDuration.observe(labels, s),
      retry: () => q.retries.inc(labels),
    };
  }

  /**
   * (Capstan) A counter of one controller's own, in this registry (e.g. helm-controller's helm forks and the CPU they
   * took); returns its increment.
   */
  counter<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
  ): (labels: Record<L, string>, by?: number) => void {
    const c = new Counter<L>({ name, help, labelNames, registers: [this.registry] });
    return (labels, by = 1) => c.inc(labels as Partial<Record<L, string>>, by);
  }

  /** Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
