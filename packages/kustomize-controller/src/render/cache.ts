// (Capstan) The last build of each Kustomization, reused while its inputs stay the same: the artifact (by digest),
// every spec field that feeds the generated overlay and postBuild, and the resolved postBuild variables. A no-op
// interval then runs no `kustomize build` (Flux runs one every interval, even when it applies nothing).
//
// What is kept is in memory only, bounded in entries and in size, one entry per Kustomization (never shared between
// two), least recently used first out. Inputs are remembered as an HMAC under a key drawn per process, so the values
// of substituteFrom Secrets are neither stored nor guessable from what is stored.
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

export interface BuildCacheOptions {
  /** Kustomizations whose last build is kept (default 1000). */
  maxEntries?: number;
  /** Total size of the kept builds, as serialized JSON characters (default 128 Mi). */
  maxBytes?: number;
}

interface Entry {
  fingerprint: string;
  json: string;
}

export class BuildCache {
  private readonly entries = new Map<string, Entry>();
  private readonly key = randomBytes(32);
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private bytes = 0;
  /** Lookups answered from the cache, and lookups that found nothing (or stale inputs): for tests and benchmarks. */
  hits = 0;
  misses = 0;

  constructor(options: BuildCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 1000;
    this.maxBytes = options.maxBytes ?? 128 * 1024 * 1024;
  }

  /** A keyed digest of everything that shapes a build's output. */
  fingerprint(inputs: BuildInputs): string {
    const spec = Object.fromEntries(Object.entries(inputs.spec).filter(([k]) => !notBuildInputs.has(k)));
    const variables = inputs.variables ?? null;
    return createHmac("sha256", this.key)
      .update(canonical({ digest: inputs.digest, spec, variables, settings: inputs.settings }))
      .digest("hex");
  }

  /** The objects of `owner`'s last build if it had these inputs; a fresh copy the caller may change. */
  get(owner: string, fingerprint: string): KubeObject[] | undefined {
    const entry = this.entries.get(owner);
    if (!entry || entry.fingerprint !== fingerprint) {
      this.misses++;
      return undefined;
    }
    this.entries.delete(owner);
    this.entries.set(owner, entry);
    this.hits++;
    return JSON.parse(entry.json) as KubeObject[];
  }

  /** Keeps `owner`'s build, replacing the one before; a build larger than the whole budget is not kept. */
  set(owner: string, fingerprint: string, objects: readonly KubeObject[]): void {
    this.forget(owner);
    const json = JSON.stringify(objects);
    if (json.length > this.maxBytes) return;
    this.entries.set(owner, { fingerprint, json });
    this.bytes += json.length;
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.json.length;
    }
  }

  forget(owner: string): void {
    const entry = this.entries.get(owner);
    if (!entry) return;
    this.entries.delete(owner);
    this.bytes -= entry.json.length;
  }

  get size(): number {
    return this.entries.size;
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
