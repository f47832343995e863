// An EventRecorder writing core/v1 Events, aggregated like client-go's: a repeat of the same event bumps count and
// lastTimestamp on the existing Event, and a per-object token bucket keeps a flapping object from flooding the API.
// It never throws into the caller: writes happen in the background and failures go to the logger.
import { hostname } from "node:os";
import { LRUCache } from "lru-cache";
import { isNotFound } from "../client/errors.js";
import { TokenBucket } from "../client/rate-limiter.js";
import type { Client, EventRecorder, KubeObject, Logger } from "../contracts.js";
import {
  aggregationKey,
  type EventSource,
  type EventType,
  eventNamespace,
  involvedObjectOf,
  newEvent,
  spamKey,
} from "./event-object.js";

export interface EventRecorderOptions {
  /** The controller's name: Event source.component and reportingComponent ("kustomize-controller"). */
  controller: string;
  /** reportingInstance; default the host name (the pod name in a cluster). */
  instance?: string;
  logger?: Logger;
  /** Per-object spam filter: client-go's defaults are a burst of 25, then one event every 5 minutes. */
  spamBurst?: number;
  spamQps?: number;
  /** How many distinct events and objects are remembered for aggregation. Default 4096, as client-go. */
  cacheSize?: number;
  now?: () => Date;
}

export interface KubeEventRecorder extends EventRecorder {
  /** Resolves when every event recorded so far was written (or failed and was logged). For shutdown and tests. */
  flush(): Promise<void>;
}

interface Recorded {
  name: string;
  namespace: string;
  count: number;
}

export function createEventRecorder(client: Client, options: EventRecorderOptions): KubeEventRecorder {
  return new Recorder(client, options);
}

class Recorder implements KubeEventRecorder {
  private readonly source: EventSource;
  private readonly recorded: LRUCache<string, Recorded>;
  private readonly spam: LRUCache<string, TokenBucket>;
  // Writes for one aggregation key run one after another, so a burst of repeats makes one Event, not several.
  private readonly chains = new Map<string, Promise<void>>();
  private readonly now: () => Date;

  constructor(
    private readonly client: Client,
    private readonly o: EventRecorderOptions,
  ) {
    this.source = { controller: o.controller, instance: o.instance ?? hostname() };
    const max = o.cacheSize ?? 4096;
    this.recorded = new LRUCache({ max });
    this.spam = new LRUCache({ max });
    this.now = o.now ?? (() => new Date());
  }

  event(obj: KubeObject, type: EventType, reason: string, message: string, annotations?: Record<string, string>): void {
    try {
      const involved = involvedObjectOf(obj);
      const sKey = spamKey(this.source, involved);
      let bucket = this.spam.get(sKey);
      if (!bucket) {
        bucket = new TokenBucket({ qps: this.o.spamQps ?? 1 / 300, burst: this.o.spamBurst ?? 25 });
        this.spam.set(sKey, bucket);
      }
      if (!bucket.tryTake()) {
        this.log("debug", "event dropped by the spam filter", involved, reason);
        return;
      }
      const key = aggregationKey(this.source, involved, type, reason, message, annotations);
      const previous = this.chains.get(key) ?? Promise.resolve();
      const next = previous
        .then(() => this.write(key, obj, type, reason, message, annotations))
        .catch((err: unknown) => this.log("warn", "could not record event", involved, reason, err))
        .finally(() => {
          if (this.chains.get(key) === next) this.chains.delete(key);
        });
      this.chains.set(key, next);
    } catch (err) {
      this.log("error", "could not record event", undefined, reason, err);
    }
  }

  async flush(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }

  private async write(
    key: string,
    obj: KubeObject,
    type: EventType,
    reason: string,
    message: string,
    annotations: Record<string, string> | undefined,
  ): Promise<void> {
    const involved = involvedObjectOf(obj);
    const now = this.now();
    const previous = this.recorded.get(key);
    if (previous) {
      const count = previous.count + 1;
      try {
        await this.client.mergePatch(
          { apiVersion: "v1", kind: "Event", name: previous.name, namespace: previous.namespace },
          { count, lastTimestamp: now.toISOString().replace(/\.\d{3}Z$/, "Z") },
        );
        this.recorded.set(key, { ...previous, count });
        return;
      } catch (err) {
        // The Event expired (events have a TTL) or was deleted: start a new one.
        if (!isNotFound(err)) throw err;
      }
    }
    const created = await this.client.create(newEvent(this.source, involved, type, reason, message, annotations, now));
    this.recorded.set(key, { name: created.metadata.name, namespace: eventNamespace(involved), count: 1 });
  }

  private log(
    level: "debug" | "warn" | "error",
    message: string,
    involved: { kind: string; name: string; namespace?: string } | undefined,
    reason: string,
    err?: unknown,
  ): void {
    const fields: Record<string, unknown> = { reason };
    if (involved) fields.object = { kind: involved.kind, name: involved.name, namespace: involved.namespace };
    if (err !== undefined) fields.error = err instanceof Error ? err.message : String(err);
    try {
      this.o.logger?.[level](fields, message);
    } catch {
      // A broken logger must not break the caller either.
    }
  }
}
