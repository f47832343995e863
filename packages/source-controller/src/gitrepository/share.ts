// (Capstan) One tarball for GitRepositories whose artifacts are the same bytes: same URL and credentials (the
// GitCache's HMAC key, so content never crosses Secrets), same commit, same spec.ignore, no include, no submodules,
// no sparse checkout, no verification (the cached checkout's conditions). The tree, its .sourceignore files and so
// the archive are functions of those alone. The first GitRepository checks out and archives; the others hard-link
// its file into their own artifact path (status, URL and path stay each object's own, as Flux writes them) and skip
// the checkout. A shared file is re-verified against its digest before each link, so a corrupted or tampered one is
// never spread (and forgotten instead).
import type { Storage } from "../storage/storage.js";

export interface SharedArtifact {
  /** The artifact path (in storage) of the object that built it. */
  path: string;
  digest: string;
  size: number;
  commit: string;
  /** First line of the commit message (the NewArtifact event's text). */
  subject: string;
}

export interface ShareOptions {
  /** Archives remembered at most (least recently built go first). Default 256. */
  maxEntries?: number;
}

export class ArtifactShare {
  readonly #done = new Map<string, SharedArtifact>();
  readonly #building = new Map<string, Promise<SharedArtifact | undefined>>();
  readonly #max: number;

  constructor(options: ShareOptions = {}) {
    this.#max = options.maxEntries ?? 256;
  }

  /** The key of an archive: the GitCache key (URL, credentials, proxy), the commit and spec.ignore. */
  static key(cacheKey: string, commit: string, ignore: string | undefined): string {
    return JSON.stringify([cacheKey, commit, ignore ?? null]);
  }

  /** The archive built for `key`, waiting for one being built; undefined if none (or its build failed). */
  async lookup(key: string): Promise<SharedArtifact | undefined> {
    const building = this.#building.get(key);
    if (building) return building;
    return this.#done.get(key);
  }

  /**
   * Announces that the caller builds `key`: later lookups wait for it. The returned function ends the build with
   * its result (undefined: failed or abandoned); calls after the first are ignored, so it can also run at the end of
   * every pass.
   */
  begin(key: string): (result?: SharedArtifact) => void {
    let settle!: (r: SharedArtifact | undefined) => void;
    const p = new Promise<SharedArtifact | undefined>((r) => {
      settle = r;
    });
    this.#building.set(key, p);
    let settled = false;
    return (result) => {
      if (settled) return;
      settled = true;
      if (this.#building.get(key) === p) this.#building.delete(key);
      if (result) this.remember(key, result);
      settle(result);
    };
  }

  remember(key: string, result: SharedArtifact): void {
    this.#done.delete(key);
    this.#done.set(key, result);
    for (const k of this.#done.keys()) {
      if (this.#done.size <= this.#max) break;
      this.#done.delete(k);
    }
  }

  /** Forgets an archive whose file is gone or no longer matches its digest. */
  forget(key: string, entry: SharedArtifact): void {
    if (this.#done.get(key) === entry) this.#done.delete(key);
  }

  /**
   * Links the archive of `key` to `dest`, or, when there is none to link, makes the caller its builder: the claim is
   * taken in the same tick as the check that nothing is built or building, so callers that arrive together (one
   * shared ls-remote answers them all at once) build one archive, not one each. Never throws.
   */
  async linkOrBegin(
    key: string,
    storage: Storage,
    dest: string,
  ): Promise<{ linked: SharedArtifact } | { end: (result?: SharedArtifact) => void }> {
    // Each turn either returns or waited for a build to end; three turns cover a failed build and a stale file.
    for (let turn = 0; turn < 3; turn++) {
      const building = this.#building.get(key);
      const done = this.#done.get(key);
      if (!building && !done) return { end: this.begin(key) };
      const entry = building ? await building : done;
      // A build that failed or was abandoned: look again (another caller may have claimed it meanwhile).
      if (!entry) continue;
      if (entry.path === dest) return { end: this.begin(key) };
      if (await storage.verify(entry.path, entry.digest)) {
        this.forget(key, entry);
        continue;
      }
      try {
        await storage.link(entry.path, dest);
        return { linked: entry };
      } catch {
        return { end: this.begin(key) };
      }
    }
    return { end: this.begin(key) };
  }
}
