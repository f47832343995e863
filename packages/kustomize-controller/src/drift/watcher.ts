// Drift seen in seconds (a Capstan addition; Flux corrects drift only at the next interval). One metadata-only
// informer per kind that any Kustomization's inventory holds, shared by all Kustomizations, started when the first
// inventory holds the kind and stopped when the last lets go. A change that may be drift (see fingerprint.ts) or a
// deletion, not written by the owning Kustomization itself, enqueues it after a short debounce; the reconcile's
// dry-run then decides what, if anything, to revert. A change another Kustomization of this process applied (two
// Kustomizations holding one object, a conflict Flux also has) only voids the owner's apply shortcut, so that the
// two fight at their intervals, as in Flux, and not in a loop; when that other Kustomization goes away, the
// remaining holders are reconciled at once, taking their objects back.
//
// The same caches serve the health check (lookup): for kinds whose health is in their status (Deployments, Services,
// custom resources...) the informer keeps the status, and of the spec only the fields the kstatus rules read; kinds
// that have no status (ConfigMaps, Secrets, ServiceAccounts, RBAC) stay metadata-only, their data never cached. Of
// the metadata every kind keeps only what drift and health read (fingerprint.ts leanMetadata).
import { type Client, createInformer, type Informer, type KubeObject, type Logger } from "@capstan/runtime";
import type { OwnerLabelKeys } from "../apply/engine.js";
import { entryOf, parseId } from "../inventory/inventory.js";
import { fmtObject, type GroupKind, groupKindOf, groupOf } from "../object.js";
import { type FingerprintOptions, leanMetadata, mayHaveDrifted } from "./fingerprint.js";
import { InventoryIndex, type KindVersion } from "./inventory-index.js";
import type { SelfWrites } from "./self-writes.js";

export interface DriftWatcherOptions extends FingerprintOptions {
  client: Pick<Client, "resourceFor" | "list" | "watch">;
  /** Keys of the owner labels (KustomizeLabels). */
  ownerLabels: OwnerLabelKeys;
  /**
   * The one namespace whose Kustomizations this controller reconciles (--watch-all-namespaces=false); their objects
   * carry it in the owner namespace label, so only those are watched. Undefined: every owner.
   */
  ownerNamespace?: string;
  selfWrites: SelfWrites;
  /** Enqueues a Kustomization by key (namespace/name). */
  enqueue(key: string): void;
  log: Logger;
  /** Events for one Kustomization within this window make one reconcile. Default 1s. */
  debounceMs?: number;
  /** Retry delay for kinds whose resource could not be resolved (a CRD not served yet). Default 30s. */
  retryMs?: number;
  /** Tests may shorten the informer's timings. */
  informer?: { watchdogMs?: number; resyncPeriodMs?: number };
}

/** The view of the watcher the apply shortcut needs. */
export interface DriftView {
  /** Counts drift events delivered for a Kustomization; a change means "something may have drifted since". */
  seq(key: string): number;
  /** Identifies the set of running, synced informers covering kinds; undefined when any is missing or unsynced. */
  token(kinds: Iterable<GroupKind>): string | undefined;
  /**
   * Whether the watch sees every object (inventory ids) carrying the owner labels of `owner` (namespace/name): an
   * object another Kustomization took over, or one gone, is not this Kustomization's as applied.
   */
  ownsAll(owner: string, ids: readonly string[]): boolean;
}

interface Watched {
  informer: Informer;
  instance: number;
  /** The informer caches metadata only (a kind without status). */
  partial: boolean;
}

/**
 * Kinds without a status (kstatus calls them Current once they exist): watched metadata-only, so that their data
 * (a Secret's above all) is never cached or even sent.
 */
const statusless = new Set<GroupKind>([
  "/ConfigMap",
  "/Secret",
  "/ServiceAccount",
  "/LimitRange",
  "rbac.authorization.k8s.io/Role",
  "rbac.authorization.k8s.io/ClusterRole",
  "rbac.authorization.k8s.io/RoleBinding",
  "rbac.authorization.k8s.io/ClusterRoleBinding",
  "scheduling.k8s.io/PriorityClass",
  "storage.k8s.io/StorageClass",
  "admissionregistration.k8s.io/ValidatingWebhookConfiguration",
  "admissionregistration.k8s.io/MutatingWebhookConfiguration",
]);

/**
 * The spec fields a kind's health rule (health/kstatus.ts) reads besides the status; other kinds' spec is not kept.
 * Custom health expressions (spec.healthCheckExprs) may read any field: their objects are read live
 * (kustomization/health.ts appliedCache).
 */
const specRead = new Map<GroupKind, readonly string[]>([
  ["apps/Deployment", ["replicas"]],
  ["apps/StatefulSet", ["replicas", "updateStrategy"]],
  ["apps/ReplicaSet", ["replicas"]],
  ["/Service", ["type"]],
]);

/**
 * What the cache keeps of an object: the lean metadata (fingerprint.ts leanMetadata), and for kinds with a status,
 * the status and the spec fields their health rule reads.
 */
export function cacheView(gk: GroupKind, partial: boolean, o: FingerprintOptions): (obj: KubeObject) => KubeObject {
  const specFields = specRead.get(gk) ?? [];
  return (obj) => {
    const kept: KubeObject = { apiVersion: obj.apiVersion, kind: obj.kind, metadata: leanMetadata(obj, o) };
    if (partial) return kept;
    if (specFields.length > 0 && obj.spec !== null && typeof obj.spec === "object") {
      const spec = obj.spec as Record<string, unknown>;
      kept.spec = Object.fromEntries(specFields.filter((f) => spec[f] !== undefined).map((f) => [f, spec[f]]));
    }
    if (obj.status !== undefined) kept.status = obj.status;
    return kept;
  };
}

/** A lookup in the watch's cache: the object as last seen, or not there; `partial` when only metadata is kept. */
export interface CachedObject {
  obj: KubeObject | undefined;
  partial: boolean;
}

interface Pending {
  type: "MODIFIED" | "DELETED";
  obj: KubeObject;
}

type Inventoried = KubeObject & { status?: { inventory?: { entries?: { id: string; v: string }[] } } };

export class DriftWatcher implements DriftView {
  private readonly index = new InventoryIndex();
  private readonly watched = new Map<GroupKind, Watched>();
  private readonly pending = new Map<string, Pending[]>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly seqs = new Map<string, number>();
  private readonly changeListeners = new Map<string, Set<() => void>>();
  private instances = 0;
  private syncing: Promise<void> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: DriftWatcherOptions) {}

  /**
   * Calls `listener` on every event (added, changed, status included, deleted) of an object with one of these
   * inventory ids, of a kind the watch covers; returns the unsubscribe. The health check's wake-up: the objects it
   * waits for are usually watched already, their kinds held by other inventories.
   */
  onChange(ids: readonly string[], listener: () => void): () => void {
    for (const id of ids) {
      const set = this.changeListeners.get(id) ?? new Set();
      set.add(listener);
      this.changeListeners.set(id, set);
    }
    return () => {
      for (const id of ids) {
        const set = this.changeListeners.get(id);
        set?.delete(listener);
        if (set?.size === 0) this.changeListeners.delete(id);
      }
    };
  }

  private changed(obj: KubeObject): void {
    if (this.changeListeners.size === 0) return;
    const listeners = this.changeListeners.get(entryOf(obj).id);
    if (listeners) for (const l of [...listeners]) l();
  }

  /** Follows the Kustomizations' inventories through their informer. */
  attach(kustomizations: Informer<Inventoried>): void {
    kustomizations.addHandlers({
      onAdd: (k) => this.setInventory(k),
      onUpdate: (_old, k) => this.setInventory(k),
      onDelete: (k) => {
        const key = keyOf(k);
        // Objects it shared with other Kustomizations may still carry its owner labels and its version of them.
        const heirs = new Set(this.index.idsOf(key).flatMap((id) => this.index.ownersOf(id)));
        heirs.delete(key);
        this.index.remove(key);
        this.seqs.delete(key);
        this.scheduleSync();
        for (const heir of heirs) this.drifted(heir, [`Kustomization/${key} deleted, sharing objects`]);
      },
    });
  }

  seq(key: string): number {
    return this.seqs.get(key) ?? 0;
  }

  token(kinds: Iterable<GroupKind>): string | undefined {
    const parts: string[] = [];
    for (const gk of new Set(kinds)) {
      const w = this.watched.get(gk);
      if (!w?.informer.hasSynced()) return undefined;
      parts.push(`${gk}#${w.instance}`);
    }
    return parts.sort().join(",");
  }

  ownsAll(owner: string, ids: readonly string[]): boolean {
    const [namespace, name] = owner.includes("/") ? owner.split("/", 2) : ["", owner];
    for (const id of ids) {
      let m: ReturnType<typeof parseId>;
      try {
        m = parseId(id);
      } catch {
        return false;
      }
      const w = this.watched.get(groupKindOf(m.group, m.kind));
      const live = w?.informer.cache.get(m.namespace ? `${m.namespace}/${m.name}` : m.name);
      const labels = live?.metadata.labels ?? {};
      if (labels[this.options.ownerLabels.Name] !== name || labels[this.options.ownerLabels.Namespace] !== namespace) {
        return false;
      }
    }
    return true;
  }

  /**
   * The watch's copy of an object, when its kind is watched and the informer has synced; undefined otherwise (read
   * the apiserver). `obj` undefined: not in the cache (gone, or not carrying our owner labels).
   */
  lookup(ref: { apiVersion: string; kind: string; namespace?: string; name: string }): CachedObject | undefined {
    const w = this.watched.get(groupKindOf(groupOf(ref.apiVersion), ref.kind));
    if (!w?.informer.hasSynced()) return undefined;
    return { obj: w.informer.cache.get(ref.namespace ? `${ref.namespace}/${ref.name}` : ref.name), partial: w.partial };
  }

  /** The kinds being watched (for tests and diagnostics). */
  watchedKinds(): GroupKind[] {
    return [...this.watched.keys()].sort();
  }

  /** Waits for pending informer starts and stops (tests). */
  settled(): Promise<void> {
    return this.syncing;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.pending.clear();
    for (const w of this.watched.values()) w.informer.stop();
    this.watched.clear();
  }

  private setInventory(k: Inventoried): void {
    this.index.set(keyOf(k), k.status?.inventory?.entries ?? []);
    this.scheduleSync();
  }

  private scheduleSync(): void {
    if (this.stopped) return;
    this.syncing = this.syncing.then(() => this.syncInformers()).catch((err: unknown) => this.warn("drift watch", err));
  }

  private async syncInformers(): Promise<void> {
    if (this.stopped) return;
    const wanted = this.index.kinds();
    for (const [gk, w] of this.watched) {
      if (wanted.has(gk)) continue;
      w.informer.stop();
      this.watched.delete(gk);
      this.options.log.debug({ kind: gk }, "drift watch stopped");
    }
    let failed = false;
    for (const [gk, kv] of wanted) {
      if (this.watched.has(gk)) continue;
      if (!(await this.startInformer(gk, kv))) failed = true;
    }
    if (failed && !this.retryTimer) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.scheduleSync();
      }, this.options.retryMs ?? 30_000);
      this.retryTimer.unref();
    }
  }

  private async startInformer(gk: GroupKind, kv: KindVersion): Promise<boolean> {
    let type: Awaited<ReturnType<Client["resourceFor"]>>;
    try {
      type = await this.options.client.resourceFor(kv.apiVersion, kv.kind);
    } catch (err) {
      this.warn(`drift watch: cannot resolve ${kv.kind} in ${kv.apiVersion}`, err);
      return false;
    }
    if (this.stopped) return true;
    const partial = statusless.has(gk);
    const informer = createInformer(this.options.client as Client, type, {
      ...(partial ? { metadataOnly: true } : {}),
      transform: cacheView(gk, partial, this.options),
      // Only objects carrying our owner label: what a Kustomization applied, not every object of the kind.
      labelSelector: this.options.ownerNamespace
        ? `${this.options.ownerLabels.Name},${this.options.ownerLabels.Namespace}=${this.options.ownerNamespace}`
        : this.options.ownerLabels.Name,
      logger: this.options.log,
      ...this.options.informer,
    });
    informer.addHandlers({
      onAdd: (obj) => this.changed(obj),
      onUpdate: (oldObj, newObj) => {
        this.changed(newObj);
        if (informer.hasSynced() && mayHaveDrifted(oldObj, newObj, this.options)) this.note("MODIFIED", newObj, oldObj);
      },
      onDelete: (obj) => {
        this.changed(obj);
        if (informer.hasSynced()) this.note("DELETED", obj, obj);
      },
    });
    this.watched.set(gk, { informer, instance: ++this.instances, partial });
    informer.start().catch((err: unknown) => {
      if (!this.stopped) this.warn(`drift watch ${gk}`, err);
    });
    this.options.log.debug({ kind: gk }, "drift watch started");
    return true;
  }

  /** Owners of the object: by inventory, and by owner labels (which the event's previous version still has). */
  private ownersOf(obj: KubeObject, previous: KubeObject): string[] {
    const owners = new Set(this.index.ownersOf(entryOf(obj).id));
    for (const o of [obj, previous]) {
      const name = o.metadata.labels?.[this.options.ownerLabels.Name];
      const namespace = o.metadata.labels?.[this.options.ownerLabels.Namespace];
      if (name) owners.add(namespace ? `${namespace}/${name}` : name);
    }
    return [...owners];
  }

  private note(type: Pending["type"], obj: KubeObject, previous: KubeObject): void {
    for (const owner of this.ownersOf(obj, previous)) {
      const list = this.pending.get(owner) ?? [];
      list.push({ type, obj });
      this.pending.set(owner, list);
      if (this.timers.has(owner)) continue;
      const timer = setTimeout(() => this.fire(owner), this.options.debounceMs ?? 1000);
      timer.unref();
      this.timers.set(owner, timer);
    }
  }

  // Runs after the debounce, when the responses of our own writes have long arrived: only then can an event be
  // told apart from the echo of our apply.
  private fire(owner: string): void {
    this.timers.delete(owner);
    const events = this.pending.get(owner) ?? [];
    this.pending.delete(owner);
    if (this.stopped) return;
    const drifted: Pending[] = [];
    let bySibling = false;
    for (const e of events) {
      if (e.type === "DELETED" && !this.index.holds(owner, entryOf(e.obj).id)) continue;
      const writer = this.options.selfWrites.writerOf(e.type, e.obj);
      if (writer === owner) continue;
      // Another Kustomization of ours applied the object: not our write, so the shortcut may not trust the object
      // any more, but reconciling now would only start a loop of the two taking it from each other.
      if (writer !== undefined && e.type === "MODIFIED") bySibling = true;
      else drifted.push(e);
    }
    if (drifted.length === 0) {
      if (bySibling) this.seqs.set(owner, this.seq(owner) + 1);
      return;
    }
    const subjects = drifted.map((e) => `${fmtObject(e.obj)} ${e.type === "DELETED" ? "deleted" : "changed"}`);
    this.drifted(owner, [...new Set(subjects)]);
  }

  private drifted(owner: string, subjects: string[]): void {
    if (this.stopped) return;
    this.seqs.set(owner, this.seq(owner) + 1);
    this.options.log.info({ kustomization: owner, objects: subjects.slice(0, 10) }, "drift detected, reconciling");
    this.options.enqueue(owner);
  }

  private warn(message: string, err: unknown): void {
    this.options.log.warn({ error: err instanceof Error ? err.message : String(err) }, message);
  }
}

function keyOf(obj: KubeObject): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
}
