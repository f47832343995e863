// Where one reconcile's time goes: how long its key waited in the queue, then how long each step took (the steps of
// the definition, the spans a step marks inside itself, and the final status write). The totals feed the
// capstan_reconcile_step_duration_seconds histogram and one debug log line per reconcile, so a benchmark can say
// which part of a reconcile its figures come from rather than guess.

/** The name a step is traced under (Capstan): set it with namedStep(); otherwise the function's name, or "step<i>". */
const stepName = Symbol.for("capstan.stepName");

type Named = { [stepName]?: string };

/** Gives a step (or any function) the name its time is traced under: "fetch", "build", "apply", "health"… */
export function namedStep<F extends (...args: never[]) => unknown>(name: string, step: F): F {
  (step as F & Named)[stepName] = name;
  return step;
}

/** The traced name of step `i` of a definition. */
export function nameOfStep(step: unknown, i: number): string {
  const named = (step as Named | undefined)?.[stepName];
  if (named) return named;
  const fn = (step as { name?: unknown } | undefined)?.name;
  return typeof fn === "string" && fn !== "" ? fn : `step${i}`;
}

/**
 * The timings of one reconcile. Spans nest: a span inside a step (a "fetch" inside "build") is recorded under its
 * own name and taken out of the enclosing one, so the parts add up to the whole and nothing is counted twice.
 */
export class ReconcileTrace {
  readonly #now: () => number;
  readonly #self = new Map<string, number>();
  /** The open spans, innermost last, each with the time its children took so far. */
  readonly #open: { children: number }[] = [];
  /** Seconds the key waited in the work queue before this reconcile took it (undefined: not known). */
  queueWaitSeconds: number | undefined;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Runs `fn` as the span `name`; its time (minus that of spans inside it) is added to `name`. */
  async span<R>(name: string, fn: () => Promise<R>): Promise<R> {
    const frame = { children: 0 };
    this.#open.push(frame);
    const started = this.#now();
    try {
      return await fn();
    } finally {
      const took = this.#now() - started;
      // Spans of one reconcile run one after the other; pop ours even if a misbehaving caller left one open.
      const at = this.#open.lastIndexOf(frame);
      if (at >= 0) this.#open.splice(at);
      const parent = this.#open.at(-1);
      if (parent) parent.children += took;
      this.#add(name, took - frame.children);
    }
  }

  /**
   * Records `ms` that passed inside the open span as a part of its own, `name` (the wait for a worker after a park),
   * taken out of the enclosing span as a nested span's time would be.
   */
  record(name: string, ms: number): void {
    const parent = this.#open.at(-1);
    if (parent) parent.children += ms;
    this.#add(name, ms);
  }

  #add(name: string, ms: number): void {
    this.#self.set(name, (this.#self.get(name) ?? 0) + Math.max(0, ms));
  }

  /** Seconds per traced name, in the order they first ran. */
  seconds(): Map<string, number> {
    return new Map([...this.#self].map(([k, ms]) => [k, ms / 1000]));
  }

  /** The breakdown for a log line: milliseconds, rounded to 0.1 ms. */
  breakdownMs(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, ms] of this.#self) out[k] = Math.round(ms * 10) / 10;
    return out;
  }
}

/**
 * Marks part of a step as its own span (e.g. the artifact download inside the build step). With no trace (a
 * context built by hand, as tests do) it only runs `fn`.
 */
export function traced<R>(ctx: { trace?: ReconcileTrace }, name: string, fn: () => Promise<R>): Promise<R> {
  return ctx.trace ? ctx.trace.span(name, fn) : fn();
}
