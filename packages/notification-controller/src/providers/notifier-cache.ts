// One Notifier per Provider, rebuilt only when the Provider's resolved settings change. A replaced Notifier is closed
// once its provider queue is idle, so notifications already queued with it are still sent.
import { createHash } from "node:crypto";
import { createNotifier, type Notifier } from "./notifier.js";
import { type ProviderSettings, secretValues } from "./settings.js";

export interface CachedNotifier {
  notifier: Notifier;
  secrets: readonly string[];
}

export class NotifierCache {
  readonly #entries = new Map<string, CachedNotifier & { fingerprint: string }>();
  readonly #retiring = new Set<Promise<void>>();

  /** `pending(key)`: jobs queued or in flight for the provider queue `key`. */
  constructor(
    private readonly pending: (providerKey: string) => number,
    private readonly create: (settings: ProviderSettings) => Notifier = (s) => createNotifier(s),
  ) {}

  /** Throws ProviderConfigError when the settings can never work. */
  get(providerKey: string, settings: ProviderSettings): CachedNotifier {
    const fingerprint = createHash("sha256").update(JSON.stringify(settings)).digest("hex");
    const existing = this.#entries.get(providerKey);
    if (existing?.fingerprint === fingerprint) return existing;
    const entry = { notifier: this.create(settings), secrets: secretValues(settings), fingerprint };
    this.#entries.set(providerKey, entry);
    if (existing) this.#retire(providerKey, existing.notifier);
    return entry;
  }

  /** The Provider is gone: close its Notifier once its queue is idle. */
  drop(providerKey: string): void {
    const existing = this.#entries.get(providerKey);
    if (!existing) return;
    this.#entries.delete(providerKey);
    this.#retire(providerKey, existing.notifier);
  }

  async closeAll(): Promise<void> {
    const all = [...this.#entries.values()].map((e) => e.notifier.close().catch(() => undefined));
    this.#entries.clear();
    await Promise.all([...all, ...this.#retiring]);
  }

  #retire(providerKey: string, notifier: Notifier): void {
    const done = (async () => {
      while (this.pending(providerKey) > 0) await new Promise((r) => setTimeout(r, 1_000).unref());
      await notifier.close().catch(() => undefined);
    })();
    this.#retiring.add(done);
    void done.finally(() => this.#retiring.delete(done));
  }
}
