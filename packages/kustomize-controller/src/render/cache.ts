// (Capstan) The last build of each Kustomization, reused while its inputs stay the same. Two levels, because
// postBuild substitution and commonMetadata run after `kustomize build` (as in Flux):
// - the build: the artifact (by digest) and every spec field that feeds the generated overlay (not postBuild nor
//   commonMetadata). While it holds, no `kustomize build` runs: an "upgrade" that only changes a postBuild variable
//   substitutes the kept build again and builds nothing;
// - the output: the build plus postBuild, commonMetadata and the resolved variables. While it holds, a no-op interval
//   does not even substitute.
//
// What is kept is in memory only, bounded in entries and in size, one entry per Kustomization, least recently used
// first out. Inputs are remembered as an HMAC under a key drawn per process, so the values of substituteFrom Secrets
// are neither stored nor guessable from what is stored.
//
// A third level is shared between Kustomizations: what `kustomize build` gave for an artifact digest, path and
// overlay, whoever asked. `kustomize build` is a function of the artifact's bytes, the overlay's fields and the
// binary (no credentials, no cluster reads, nothing of the Kustomization's namespace), so two Kustomizations that
// agree on those get the same objects: N apps of one repository and overlay, differing in postBuild variables only,
// run one build instead of N. Concurrent builds of one key run once (the others wait for it, and build themselves if
// it fails). Builds with decryption are never kept, here or above (build.ts).
import { createHmac, randomBytes } from "node:crypto";
import type { KubeObject } from "../kube.js";

/**
 * Spec fields that change how the objects are applied, waited for or scheduled, never what the build renders.
 * Every other field (path, sourceRef, targetNamespace, namePrefix/Suffix, patches, images, components,
 * commonMetadata, buildMetadata, postBuild, decryption, serviceAccountName, kubeConfig, any field added later) is an
 * input: deny-listing the known-harmless ones errs towards rebuilding.
 */
const notBuildInputs = new Set([
  "interval",
  "retryInterval",
  "timeout",
  "suspend",
  "prune",
  "wait",
  "force",
  "healthChecks",
  "healthCheckExprs",
  "dependsOn",
  "deletionPolicy",
  "ignore",
]);

/** Spec fields applied to the build's objects after `kustomize build`: inputs of the output, not of the build. */
const afterBuild = new Set(["postBuild", "commonMetadata"]);

/**
 * Spec fields that pick where the artifact comes from or whom the objects are applied as: inputs of one
 * Kustomization's build (kept per owner), not of what `kustomize build` renders from the artifact's bytes (its
 * digest stands for them), so not of the shared level.
 */
const ownerOnly = new Set(["sourceRef", "serviceAccountName", "kubeConfig"]);

export interface BuildInputs {
  /** The artifact's digest (sha256:<hex>). */
  digest: string;
  /** The Kustomization's spec. */
  spec: object;
  /** The resolved postBuild variables (substituteFrom, then substitute); undefined without postBuild. */
  variables: Record<string, string> | undefined;
  /** Process-wide settings that shape the output (kustomize binary, strict substitution). */
  settings: Record<string, string | boolean>;
}

/**
 * The keys of one build: of `kustomize build` alone, for this Kustomization and for any (shared), and of everything
 * that shapes the final objects.
 */
export interface Fingerprints {
  build: string;
  shared: string;
  output: string;
}

export interface BuildCacheOptions {
  /** Kustomizations whose last build is kept (default 1000). */
  maxEntries?: number;
  /** Total size of the kept builds, as serialized JSON characters (default 128 Mi). */
  maxBytes?: number;
  /** Shared builds kept (default 256), within maxSharedBytes (default 32 Mi). */
  maxShared?: number;
  maxSharedBytes?: number;
}

interface Entry {
  build: string;
  /** `kustomize build`'s objects; absent when the same as output (no postBuild, no commonMetadata). */
  built?: string;
  output: string;
  json: string;
}

/** What a lookup found: the final objects, or only the build they are made from. */
export type Reused = { output: KubeObject[] } | { built: KubeObject[] };

const bytesOf = (e: Entry) => e.json.length + (e.built?.length ?? 0);

export class BuildCache {
  private readonly entries = new Map<string, Entry>();
  private readonly key = randomBytes(32);
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private bytes = 0;
  private readonly shared = new Map<string, string>();
  private readonly inflight = new Map<string, Promise<KubeObject[]>>();
  private readonly maxShared: number;
  private readonly maxSharedBytes: number;
  private sharedBytes = 0;
  /** Lookups that ran no `kustomize build`, and lookups that found nothing (or stale inputs): for tests and benchmarks. */
  hits = 0;
  misses = 0;
  /** Builds taken from the shared level (kept, or built meanwhile by another Kustomization), and builds run. */
  sharedHits = 0;
  builds = 0;

  constructor(options: BuildCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 1000;
    this.maxBytes = options.maxBytes ?? 128 * 1024 * 1024;
    this.maxShared = options.maxShared ?? 256;
    this.maxSharedBytes = options.maxSharedBytes ?? 32 * 1024 * 1024;
  }

  /** Keyed digests of what shapes the build, and of everything that shapes the output. */
  fingerprints(inputs: BuildInputs): Fingerprints {
    const entries = Object.entries(inputs.spec).filter(([k]) => !notBuildInputs.has(k));
    const buildSpec = Object.fromEntries(entries.filter(([k]) => !afterBuild.has(k)));
    const outputSpec = Object.fromEntries(entries.filter(([k]) => afterBuild.has(k)));
    const { strict, ...buildSettings } = inputs.settings;
    const build = this.hmac({ digest: inputs.digest, spec: buildSpec, settings: buildSettings });
    const sharedSpec = Object.fromEntries(Object.entries(buildSpec).filter(([k]) => !ownerOnly.has(k)));
    const shared = this.hmac({ shared: true, digest: inputs.digest, spec: sharedSpec, settings: buildSettings });
    const output = this.hmac({ build, spec: outputSpec, variables: inputs.variables ?? null, strict: strict ?? null });
    return { build, shared, output };
  }

  /** A keyed digest of everything that shapes a build's output. */
  fingerprint(inputs: BuildInputs): string {
    return this.fingerprints(inputs).output;
  }

  /**
   * `owner`'s final objects if its last build had the same inputs, else the objects of `kustomize build` if only
   * what comes after the build changed; fresh copies the caller may change.
   */
  lookup(owner: string, fp: Pick<Fingerprints, "build" | "output">): Reused | undefined {
    const entry = this.entries.get(owner);
    if (!entry || entry.build !== fp.build) {
      this.misses++;
      return undefined;
    }
    this.entries.delete(owner);
    this.entries.set(owner, entry);
    this.hits++;
    if (entry.output === fp.output) return { output: JSON.parse(entry.json) as KubeObject[] };
    return { built: JSON.parse(entry.built ?? entry.json) as KubeObject[] };
  }

  /** The final objects of `owner`'s last build if it had this output fingerprint (one-level use). */
  get(owner: string, fingerprint: string): KubeObject[] | undefined {
    const entry = this.entries.get(owner);
    if (!entry || entry.output !== fingerprint) {
      this.misses++;
      return undefined;
    }
    this.entries.delete(owner);
    this.entries.set(owner, entry);
    this.hits++;
    return JSON.parse(entry.json) as KubeObject[];
  }

  /**
   * Keeps `owner`'s build, replacing the one before: `output`, and `built` (what `kustomize build` gave, when
   * postBuild or commonMetadata changed it). A build larger than the whole budget is not kept.
   */
  set(
    owner: string,
    fp: string | Pick<Fingerprints, "build" | "output">,
    output: readonly KubeObject[],
    built?: readonly KubeObject[],
  ): void {
    this.forget(owner);
    const fps = typeof fp === "string" ? { build: fp, output: fp } : fp;
    const json = JSON.stringify(output);
    const builtJson = built ? this.interned(JSON.stringify(built)) : undefined;
    const entry: Entry = {
      build: fps.build,
      output: fps.output,
      json,
      ...(builtJson !== undefined && builtJson !== json ? { built: builtJson } : {}),
    };
    // Without the build's own objects, a changed postBuild could not reuse them: key the entry to the output only.
    if (builtJson === undefined && fps.build !== fps.output) entry.build = fps.output;
    if (bytesOf(entry) > this.maxBytes) return;
    this.entries.set(owner, entry);
    this.bytes += bytesOf(entry);
    for (const [oldest, e] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= bytesOf(e);
    }
  }

  /**
   * What `kustomize build` gives for this shared key: kept from an earlier build, or from the build of this key that
   * is running (awaited), or else from `build`, run now and kept. Fresh copies the caller may change.
   */
  async sharedBuild(
    key: string,
    build: () => Promise<KubeObject[]>,
    signal?: AbortSignal,
  ): Promise<{ built: KubeObject[]; shared: boolean }> {
    const kept = this.shared.get(key);
    if (kept !== undefined) {
      this.shared.delete(key);
      this.shared.set(key, kept);
      this.sharedHits++;
      return { built: JSON.parse(kept) as KubeObject[], shared: true };
    }
    const running = this.inflight.get(key);
    if (running) {
      const built = await abortable(running, signal).catch(() => undefined);
      signal?.throwIfAborted();
      if (built) {
        this.sharedHits++;
        return { built: structuredClone(built), shared: true };
      }
    }
    this.builds++;
    const mine = build();
    if (!this.inflight.has(key)) {
      this.inflight.set(key, mine);
      mine.then(
        (built) => this.keepShared(key, built),
        () => {},
      );
      mine.finally(() => this.inflight.get(key) === mine && this.inflight.delete(key)).catch(() => {});
    }
    const built = await mine;
    return { built: structuredClone(built), shared: false };
  }

  private keepShared(key: string, built: readonly KubeObject[]): void {
    const json = JSON.stringify(built);
    if (json.length > this.maxSharedBytes) return;
    const before = this.shared.get(key);
    if (before !== undefined) this.sharedBytes -= before.length;
    this.shared.delete(key);
    this.shared.set(key, json);
    this.sharedBytes += json.length;
    for (const [oldest, e] of this.shared) {
      if (this.shared.size <= this.maxShared && this.sharedBytes <= this.maxSharedBytes) break;
      this.shared.delete(oldest);
      this.sharedBytes -= e.length;
    }
  }

  /**
   * The shared level's copy of this text when it holds an equal one, so that N Kustomizations of one build keep one
   * copy of what `kustomize build` gave, not N (the bench's 1,000 apps kept 1,000 equal strings).
   */
  private interned(json: string): string {
    for (const kept of this.shared.values()) if (kept.length === json.length && kept === json) return kept;
    return json;
  }

  forget(owner: string): void {
    const entry = this.entries.get(owner);
    if (!entry) return;
    this.entries.delete(owner);
    this.bytes -= bytesOf(entry);
  }

  get size(): number {
    return this.entries.size;
  }

  private hmac(value: unknown): string {
    return createHmac("sha256", this.key).update(canonical(value)).digest("hex");
  }
}

/** JSON with object keys sorted at every level, so that equal inputs give equal text whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/** The promise, or a rejection when the signal aborts first. */
function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
