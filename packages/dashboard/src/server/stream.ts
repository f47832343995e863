// The live feed: Server-Sent Events. The first messages are a snapshot of what this user may list (split by
// snapshot.ts so the first screen can render from the first message); after them, changes are pushed in batches (at most every `flushMs`), each filtered by the same SubjectAccessReviews, so a status change
// reaches an open page well within a second without the browser asking.
import type { ServerResponse } from "node:http";
import { constants, createGzip, type Gzip } from "node:zlib";
import type { ResourceType } from "@capstan/runtime";
import type { ChangeBatch, EventView, Snapshot, SnapshotEnd, SnapshotItems, Summary } from "../shared/types.js";
import { packSummaries } from "../shared/wire.js";
import type { AccessReviewer } from "./auth/access.js";
import type { Principal } from "./auth/authenticate.js";
import { byTimeDesc } from "./model.js";
import { type SplitLimits, splitSnapshot } from "./snapshot.js";
import { type Change, type ClusterStore, eventType } from "./store.js";

/** Events in the snapshot (newest first); the page keeps about as many. */
export const snapshotEvents = 300;

export interface StreamOptions {
  flushMs?: number;
  heartbeatMs?: number;
  /** The browser session this stream serves (closed when it ends). */
  sessionId?: string;
  /** Asked at each heartbeat: false closes the stream (the session ended or its token is no longer accepted). */
  stillValid?: () => Promise<boolean>;
  /** Where the first snapshot is split into messages (snapshot.ts; tests make the parts small). */
  split?: SplitLimits;
  /** The request's Accept-Encoding: with gzip the stream is compressed, each message flushed as it is written. */
  acceptEncoding?: string;
}

/** Whether an Accept-Encoding header takes gzip (and does not refuse it with q=0). */
export function acceptsGzip(header: string | undefined): boolean {
  for (const part of (header ?? "").toLowerCase().split(",")) {
    const [coding, ...params] = part.trim().split(";");
    if (coding?.trim() !== "gzip") continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

export class Stream {
  private pending = new Map<string, Change>();
  private buffering = true;
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;
  private unsubscribe: (() => void) | undefined;
  private flushing = false;
  /** Where messages are written: the response, or a gzip stream in front of it. */
  private out: ServerResponse | Gzip;

  constructor(
    private readonly res: ServerResponse,
    private readonly who: Principal,
    private readonly store: ClusterStore,
    private readonly access: AccessReviewer,
    private readonly options: StreamOptions = {},
  ) {
    this.out = res;
  }

  async start(): Promise<void> {
    // The first message holds every summary the user may see (about 1.2 MB for 5,000 Kustomizations): compressed
    // it is a fraction of that over a real network. Z_SYNC_FLUSH after each write keeps every message live.
    const gzip = acceptsGzip(this.options.acceptEncoding);
    if (gzip) {
      const z = createGzip({ level: 4, flush: constants.Z_SYNC_FLUSH });
      z.pipe(this.res);
      z.on("error", () => this.close());
      this.out = z;
    }
    this.res.writeHead(200, {
      ...(gzip ? { "content-encoding": "gzip", vary: "accept-encoding" } : {}),
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
      connection: "keep-alive",
    });
    this.res.on("close", () => this.close());
    // Subscribe first: what changes while the snapshot is filtered is sent after it (upserts are idempotent).
    this.unsubscribe = this.store.subscribe((c) => this.onChange(c));
    await this.sendSnapshot();
    if (this.closed) return;
    this.buffering = false;
    this.schedule();
    this.heartbeat = setInterval(() => this.beat(), this.options.heartbeatMs ?? 25_000);
  }

  get sessionId(): string | undefined {
    return this.options.sessionId;
  }

  private beat(): void {
    if (this.closed) return;
    this.out.write(": keep-alive\n\n");
    this.options
      .stillValid?.()
      .then((ok) => {
        if (!ok) this.close();
      })
      .catch(() => this.close());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    // A client that went away leaves a destroyed response: drop the gzip stream rather than flush into it.
    if (this.out !== this.res && this.res.destroyed) this.out.destroy();
    else this.out.end();
  }

  /**
   * The first message holds what the first screen shows (snapshot.ts); each later one is written once the one before
   * has gone through gzip, so the first reaches the browser while the rest is packed.
   */
  private async sendSnapshot(): Promise<void> {
    const items = await this.visibleItems(this.store.items());
    const events = (await this.visibleEvents(this.store.allEvents())).sort(byTimeDesc).slice(0, snapshotEvents);
    if (this.closed) return;
    const split = splitSnapshot(items, events, this.options.split);
    const first: Snapshot = {
      items: packSummaries(split.head),
      events: split.headEvents,
      counts: split.counts,
      more: split.rest.length > 0,
    };
    await this.write("snapshot", first);
    if (!first.more) return;
    for (const chunk of split.rest) {
      if (this.closed) return;
      await this.write("items", { items: packSummaries(chunk) } satisfies SnapshotItems);
    }
    await this.write("snapshot-end", { events: split.restEvents } satisfies SnapshotEnd);
  }

  private async visibleItems(items: Summary[]): Promise<Summary[]> {
    const seen = new Map<string, Promise<boolean>>();
    const checks = items.map((s) => {
      const type = this.store.typeOf(s.kind);
      if (!type) return Promise.resolve(false);
      const k = `${s.kind}/${s.namespace}`;
      let p = seen.get(k);
      if (!p) {
        p = this.access.canList(this.who, type, s.namespace);
        seen.set(k, p);
      }
      return p;
    });
    const ok = await Promise.all(checks);
    return items.filter((_, i) => ok[i]);
  }

  private async visibleEvents(events: EventView[]): Promise<EventView[]> {
    const namespaces = [...new Set(events.map((e) => e.namespace))];
    const ok = new Map(
      await Promise.all(
        namespaces.map(async (ns) => [ns, await this.access.canList(this.who, eventType, ns)] as const),
      ),
    );
    return events.filter((e) => ok.get(e.namespace));
  }

  private onChange(c: Change): void {
    this.pending.set(`${c.type}:${c.key}`, c);
    if (!this.buffering) this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.closed || this.pending.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.options.flushMs ?? 100);
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.closed) return;
    this.flushing = true;
    const changes = [...this.pending.values()];
    this.pending = new Map();
    try {
      const upserts: Summary[] = [];
      const batch: Omit<ChangeBatch, "upserts"> = { deletes: [], events: [], eventDeletes: [] };
      const allowed = await Promise.all(changes.map((c) => this.visible(c)));
      changes.forEach((c, i) => {
        if (!allowed[i]) return;
        if (c.type === "item") {
          if (c.summary) upserts.push(c.summary);
          else batch.deletes.push(c.key);
        } else if (c.event) batch.events.push(c.event);
        else batch.eventDeletes.push(c.key);
      });
      if (upserts.length + batch.deletes.length + batch.events.length + batch.eventDeletes.length > 0) {
        void this.write("changes", { upserts: packSummaries(upserts), ...batch } satisfies ChangeBatch);
      }
    } finally {
      this.flushing = false;
      this.schedule();
    }
  }

  private visible(c: Change): Promise<boolean> {
    const type: ResourceType = c.type === "item" ? c.resource : eventType;
    return this.access.canList(this.who, type, c.namespace);
  }

  /** Resolves once the message has been taken by the response (or gzip), or at once when the stream is closed. */
  private write(event: string, data: unknown): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.out.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`, () => resolve());
    });
  }
}
