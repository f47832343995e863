// (Capstan) A per-process object cache of the repositories GitRepositories fetch: one bare repository per URL and
// credentials, so GitRepositories of the same URL, ref and credentials share one ls-remote in flight and one fetch,
// and a checkout is one `git read-tree` out of the cache rather than init + remote add + fetch + rev-parse +
// checkout + log in a fresh repository. Never shared across credentials: the key is an HMAC (with a random
// per-process key, so nothing about a secret can be guessed from a directory name) of the URL, every credential
// field and the proxy. The cache lives in a 0700 temporary directory, never under the artifact server's root.
import { createHmac, randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GitAuth, ProxyConfig } from "./auth.js";

export interface CachedCommit {
  commit: string;
  subject: string;
  tagObject?: string;
}

export interface CacheRepo {
  /** The bare repository's directory (set once its init has started). */
  dir: string;
  /** Commits fetched into it, by `<reference>\0<commit ls-remote named>`. */
  readonly fetched: Map<string, CachedCommit>;
  /** Fetches so far: the repository is started over after `maxFetches` so unreferenced objects do not pile up. */
  fetches: number;
  users: number;
  lastUsed: number;
  /** The lock of fetches into it (git takes ref and shallow locks; two fetches at once would fail). */
  lock: Promise<void>;
}

export interface GitCacheOptions {
  /** Parent of the cache directory; default the OS temp directory. */
  parent?: string;
  /** Repositories kept at most (least recently used unused ones go first). Default 256. */
  maxRepos?: number;
  /** Fetches into one repository before it is started over. Default 50. */
  maxFetches?: number;
}

export class GitCache {
  readonly #secret = randomBytes(32);
  readonly #repos = new Map<string, CacheRepo>();
  readonly #inflight = new Map<string, Promise<unknown>>();
  /** The latest listing per key, kept after it settles (successful ones only) for callers it is fresh enough for. */
  readonly #listings = new Map<string, { startedAt: number; running: boolean; result: Promise<unknown> }>();
  readonly #options: Required<Omit<GitCacheOptions, "parent">> & { parent: string };
  #root: Promise<string> | undefined;
  #disposed = false;
  #counter = 0;

  constructor(options: GitCacheOptions = {}) {
    this.#options = {
      parent: options.parent ?? tmpdir(),
      maxRepos: options.maxRepos ?? 256,
      maxFetches: options.maxFetches ?? 50,
    };
  }

  get maxFetches(): number {
    return this.#options.maxFetches;
  }

  /** The isolation key of a URL with its credentials and proxy. */
  keyOf(url: string, auth: GitAuth, proxy?: ProxyConfig): string {
    const h = createHmac("sha256", this.#secret);
    h.update(JSON.stringify({ url, auth: canonical(auth), proxy: proxy ? canonical(proxy) : null }));
    return h.digest("hex").slice(0, 32);
  }

  /** Runs `fn` once for concurrent callers of the same key; the result is not kept after it settles. */
  shared<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const running = this.#inflight.get(key);
    if (running) return running as Promise<T>;
    const p = fn().finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  /**
   * (Capstan) A listing (ls-remote) of `key` shared by the reconciles it is fresh enough for: one that started at or
   * after `notBefore` (the caller's ReconcileContext.requestedAt, the newest event it answers) is as fresh as one
   * started now, running or finished. Without `notBefore` only a running one is shared (as shared() does). A failed
   * listing is never kept. So N GitRepositories of one URL and credentials queued by one apply cost one ls-remote,
   * while a webhook's or a requeue's reconcile always sees a listing that began after it was asked for.
   */
  listing<T>(key: string, notBefore: number | undefined, fn: () => Promise<T>): Promise<T> {
    const last = this.#listings.get(key);
    if (last && (notBefore === undefined ? last.running : last.startedAt >= notBefore)) {
      return last.result as Promise<T>;
    }
    const entry = { startedAt: performance.now(), running: true, result: fn() as Promise<unknown> };
    entry.result.then(
      () => {
        entry.running = false;
      },
      () => {
        entry.running = false;
        if (this.#listings.get(key) === entry) this.#listings.delete(key);
      },
    );
    this.#listings.delete(key); // re-inserted last: the Map's order is the eviction order
    this.#listings.set(key, entry);
    for (const k of this.#listings.keys()) {
      if (this.#listings.size <= this.#options.maxRepos) break;
      this.#listings.delete(k);
    }
    return entry.result as Promise<T>;
  }

  /** The bare repository of `key`, held until release() (an evicted repository is never one in use). */
  async acquire(key: string, init: (dir: string) => Promise<void>): Promise<CacheRepo> {
    if (this.#disposed) throw new Error("git cache: disposed");
    let repo = this.#repos.get(key);
    if (!repo) {
      // Registered before any await, so concurrent first users share one repository; they wait for its init.
      const created: CacheRepo = {
        dir: "",
        fetched: new Map(),
        fetches: 0,
        users: 0,
        lastUsed: 0,
        lock: Promise.resolve(),
      };
      const n = ++this.#counter;
      created.lock = this.#rootDir().then(async (root) => {
        created.dir = join(root, `${key}-${n}`);
        await init(created.dir);
      });
      this.#repos.set(key, created);
      repo = created;
    }
    repo.users++;
    repo.lastUsed = performance.now();
    // After users++: the repository just taken is never the one evicted.
    this.#evict();
    try {
      await repo.lock;
    } catch (err) {
      this.release(key, repo, true);
      throw err;
    }
    return repo;
  }

  /** Runs `fn` alone on the repository (fetches). */
  async exclusive<T>(repo: CacheRepo, fn: () => Promise<T>): Promise<T> {
    const before = repo.lock;
    let done!: () => void;
    repo.lock = new Promise<void>((r) => {
      done = r;
    });
    await before.catch(() => undefined);
    try {
      return await fn();
    } finally {
      done();
    }
  }

  /** Ends a use; `broken` drops the repository (a failed or interrupted fetch may leave locks or half a pack). */
  release(key: string, repo: CacheRepo, broken = false): void {
    repo.users = Math.max(0, repo.users - 1);
    if (broken || repo.fetches >= this.#options.maxFetches) {
      if (this.#repos.get(key) === repo) this.#repos.delete(key);
    }
    if (repo.users === 0 && this.#repos.get(key) !== repo && repo.dir)
      void rm(repo.dir, { recursive: true, force: true });
  }

  /** Removes the cache directory; later uses fail. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    this.#repos.clear();
    this.#listings.clear();
    const root = await this.#root?.catch(() => undefined);
    if (root) await rm(root, { recursive: true, force: true });
  }

  #rootDir(): Promise<string> {
    this.#root ??= (async () => {
      await mkdir(this.#options.parent, { recursive: true });
      const dir = await mkdtemp(join(this.#options.parent, "capstan-git-cache-"));
      await chmod(dir, 0o700);
      return dir;
    })();
    return this.#root;
  }

  #evict(): void {
    if (this.#repos.size <= this.#options.maxRepos) return;
    const idle = [...this.#repos].filter(([, r]) => r.users === 0).sort(([, a], [, b]) => a.lastUsed - b.lastUsed);
    for (const [key, repo] of idle) {
      if (this.#repos.size <= this.#options.maxRepos) return;
      this.#repos.delete(key);
      if (repo.dir) void rm(repo.dir, { recursive: true, force: true });
    }
  }
}

/** JSON of an object with sorted keys and Buffers as base64, so equal credentials give equal keys. */
function canonical(value: object): unknown {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[k];
    out[k] = Buffer.isBuffer(v) ? v.toString("base64") : v;
  }
  return out;
}
