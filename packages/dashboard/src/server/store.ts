// The server's view of the cluster: one informer per toolkit kind and one per kind's Events (field-selected by
// involvedObject.kind, so the cache holds only toolkit Events), summarised once per change and fanned out to the
// open streams. Reads only the Kubernetes API.
import {
  alertType,
  gitRepositoryType,
  helmChartType,
  helmReleaseType,
  helmRepositoryType,
  kustomizationType,
  ociRepositoryType,
  providerType,
  receiverType,
} from "@capstan/api";
import {
  createInformer,
  type KubeClient,
  type KubeInformer,
  type KubeObject,
  type Logger,
  type ResourceType,
} from "@capstan/runtime";
import type { EventView, Summary, SummaryKind } from "../shared/types.js";
import { leanClient } from "./lean-client.js";
import { byTimeDesc, eventView, type Obj, summarize, summaryKey } from "./model.js";

/** One thing that changed, with what access to it is decided by. */
export type Change =
  | { type: "item"; key: string; resource: ResourceType; namespace: string; summary: Summary | undefined }
  | { type: "event"; key: string; namespace: string; event: EventView | undefined };

export const eventType: ResourceType = { group: "", version: "v1", kind: "Event", plural: "events", namespaced: true };
export const deploymentType: ResourceType = {
  group: "apps",
  version: "v1",
  kind: "Deployment",
  plural: "deployments",
  namespaced: true,
};
/** The controllers' Deployments, as their charts (and Flux's) label them. */
export const controllerSelector = "app.kubernetes.io/part-of=flux";

const required = [kustomizationType, gitRepositoryType];
// helm-controller's HelmRelease, the notification kinds and the Helm and OCI sources are listed when their CRD is
// installed.
const optional = [
  helmReleaseType,
  providerType,
  alertType,
  receiverType,
  helmRepositoryType,
  helmChartType,
  ociRepositoryType,
];
/** Events kept per involved kind, newest first, when more arrive than this. */
const maxEventsPerKind = 2_000;

export interface StoreOptions {
  client: KubeClient;
  logger?: Logger;
  /** Watch one namespace only (default: all). */
  namespace?: string;
}

export class ClusterStore {
  private readonly informers = new Map<string, KubeInformer<KubeObject>>();
  private readonly types = new Map<SummaryKind, ResourceType>();
  private readonly summaries = new Map<string, Summary>();
  private readonly events = new Map<string, EventView>();
  private readonly listeners = new Set<(c: Change) => void>();
  /** Per Kustomization key: when this process first saw each recent lastAppliedRevision (drift history). */
  private readonly appliedSeen = new Map<string, Map<string, number>>();
  private synced = false;

  constructor(private readonly options: StoreOptions) {}

  /** Starts the informers and resolves once every cache has its first list. Kinds whose CRD is absent are skipped. */
  async start(): Promise<void> {
    const { logger } = this.options;
    const client = leanClient(this.options.client);
    const kinds: ResourceType[] = [...required];
    for (const t of optional) {
      try {
        await client.resourceFor(`${t.group}/${t.version}`, t.kind);
        kinds.push(t);
      } catch (err) {
        logger?.info({ kind: t.kind, error: (err as Error).message }, "kind not served: not shown");
      }
    }
    const starts: Promise<void>[] = [];
    for (const type of kinds) {
      this.types.set(type.kind as SummaryKind, type);
      const inf = createInformer<KubeObject>(client, type, this.informerOptions());
      inf.addHandlers({
        onAdd: (o) => this.putItem(type, o),
        onUpdate: (_, o) => this.putItem(type, o),
        onDelete: (o) => this.removeItem(type, o),
      });
      this.informers.set(type.kind, inf);
      starts.push(inf.start());
      const evInf = createInformer<KubeObject>(client, eventType, {
        ...this.informerOptions(),
        fieldSelector: `involvedObject.kind=${type.kind}`,
      });
      evInf.addHandlers({
        onAdd: (o) => this.putEvent(o),
        onUpdate: (_, o) => this.putEvent(o),
        onDelete: (o) => this.removeEvent(o),
      });
      this.informers.set(`Event/${type.kind}`, evInf);
      starts.push(evInf.start());
    }
    // The controllers' own health: their Deployments (no Events informer for these).
    this.types.set("Deployment", deploymentType);
    const deployments = createInformer<KubeObject>(client, deploymentType, {
      ...this.informerOptions(),
      labelSelector: controllerSelector,
    });
    deployments.addHandlers({
      onAdd: (o) => this.putItem(deploymentType, o),
      onUpdate: (_, o) => this.putItem(deploymentType, o),
      onDelete: (o) => this.removeItem(deploymentType, o),
    });
    this.informers.set("Deployment", deployments);
    starts.push(deployments.start());
    await Promise.all(starts);
    this.synced = true;
  }

  stop(): void {
    for (const inf of this.informers.values()) inf.stop();
    this.listeners.clear();
  }

  hasSynced(): boolean {
    return this.synced;
  }

  typeOf(kind: string): ResourceType | undefined {
    return this.types.get(kind as SummaryKind);
  }

  subscribe(listener: (c: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  items(): Summary[] {
    return [...this.summaries.values()];
  }

  summary(kind: string, namespace: string, name: string): Summary | undefined {
    return this.summaries.get(summaryKey(kind, namespace, name));
  }

  /** The cached object, frozen. */
  object(kind: string, namespace: string, name: string): Obj | undefined {
    return this.informers.get(kind)?.cache.get(`${namespace}/${name}`) as Obj | undefined;
  }

  allEvents(): EventView[] {
    return [...this.events.values()];
  }

  eventsFor(kind: string, namespace: string, name: string): EventView[] {
    return this.rawEventsFor(kind, namespace, name)
      .map((e) => eventView(e))
      .sort(byTimeDesc);
  }

  /** The cached Events about one object, as the API returned them (frozen). */
  rawEventsFor(kind: string, namespace: string, name: string): Obj[] {
    const inf = this.informers.get(`Event/${kind}`);
    if (!inf) return [];
    return inf.cache.list(namespace).filter((e) => {
      const involved = (e as unknown as { involvedObject?: { name?: string; namespace?: string } }).involvedObject;
      return involved?.name === name && (involved.namespace || e.metadata.namespace) === namespace;
    }) as Obj[];
  }

  /** Kustomizations whose dependsOn names this one. */
  dependents(namespace: string, name: string): Summary[] {
    return this.items().filter(
      (s) =>
        s.kind === "Kustomization" && s.dependsOn?.some((d) => d.name === name && d.namespace === namespace) === true,
    );
  }

  private informerOptions() {
    return {
      ...(this.options.namespace ? { namespace: this.options.namespace } : {}),
      ...(this.options.logger ? { logger: this.options.logger } : {}),
    };
  }

  /** When this process first saw each recent lastAppliedRevision of a Kustomization. */
  appliedRevisionsSeen(namespace: string, name: string): ReadonlyMap<string, number> {
    return this.appliedSeen.get(summaryKey("Kustomization", namespace, name)) ?? new Map();
  }

  private noteApplied(s: Summary): void {
    if (s.kind !== "Kustomization" || !s.revision) return;
    const seen = this.appliedSeen.get(s.key) ?? new Map<string, number>();
    if (seen.has(s.revision)) return;
    seen.set(s.revision, Date.now());
    // A few revisions are enough: drift is read from the last hour of Events.
    if (seen.size > 8) seen.delete(seen.keys().next().value ?? "");
    this.appliedSeen.set(s.key, seen);
  }

  private putItem(type: ResourceType, o: KubeObject): void {
    const s = summarize(o as Obj);
    this.noteApplied(s);
    const old = this.summaries.get(s.key);
    if (old && sameSummary(old, s)) return;
    this.summaries.set(s.key, s);
    this.emit({ type: "item", key: s.key, resource: type, namespace: s.namespace, summary: s });
  }

  private removeItem(type: ResourceType, o: KubeObject): void {
    const key = summaryKey(type.kind, o.metadata.namespace ?? "", o.metadata.name);
    this.appliedSeen.delete(key);
    if (!this.summaries.delete(key)) return;
    this.emit({ type: "item", key, resource: type, namespace: o.metadata.namespace ?? "", summary: undefined });
  }

  private putEvent(o: KubeObject): void {
    const e = eventView(o as Obj);
    this.events.set(e.key, e);
    if (this.events.size > maxEventsPerKind * this.types.size) this.trimEvents();
    this.emit({ type: "event", key: e.key, namespace: e.namespace, event: e });
  }

  private removeEvent(o: KubeObject): void {
    const key = `${o.metadata.namespace ?? ""}/${o.metadata.name}`;
    if (!this.events.delete(key)) return;
    this.emit({ type: "event", key, namespace: o.metadata.namespace ?? "", event: undefined });
  }

  // The overview shows recent activity: the oldest Events go first once there are many.
  private trimEvents(): void {
    const sorted = [...this.events.values()].sort(byTimeDesc);
    for (const e of sorted.slice(maxEventsPerKind * this.types.size * 0.9)) this.events.delete(e.key);
  }

  private emit(c: Change): void {
    for (const l of this.listeners) {
      try {
        l(c);
      } catch (err) {
        this.options.logger?.error({ error: (err as Error).message }, "change listener failed");
      }
    }
  }
}

function sameSummary(a: Summary, b: Summary): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
