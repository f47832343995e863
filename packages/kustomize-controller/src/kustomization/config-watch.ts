// Rotation without a commit (Flux 2.5+): ConfigMaps and Secrets labelled `reconcile.fluxcd.io/watch: Enabled` that a
// Kustomization names in postBuild.substituteFrom wake that Kustomization within seconds of a change, so a value
// rotated in the cluster (by hand, an operator, External Secrets) reaches the applied manifests without a Git change.
//
// Only labelled objects are watched (a label-selected informer: never every Secret of the cluster), and only their
// metadata: the controller never holds Secret data in memory for this; the reconcile reads the values as it always
// did. The informers start with the first Kustomization that has a substituteFrom, so a controller without any
// opens no watch on Secrets at all.
import {
  type Client,
  createInformer,
  type Informer,
  type InformerOptions,
  type KubeObject,
  type Logger,
  type ResourceType,
} from "@capstan/runtime";
import type { KustomizationObject } from "./types.js";

/** Flux's label and its one value that turns the watch on for an object. */
export const WatchLabel = "reconcile.fluxcd.io/watch";
export const WatchLabelEnabled = "Enabled";
/** Flux's default for --watch-configs-label-selector. */
export const defaultWatchConfigsSelector = `${WatchLabel}=${WatchLabelEnabled}`;

const configMapType: ResourceType = {
  group: "",
  version: "v1",
  kind: "ConfigMap",
  plural: "configmaps",
  namespaced: true,
};
const secretType: ResourceType = { group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true };

export interface ConfigWatchOptions {
  client: Client;
  /** The Kustomizations this controller reconciles (its informer's cache). */
  kustomizations: Informer<KustomizationObject>;
  /** Enqueues a Kustomization by key (namespace/name). */
  enqueue(key: string): void;
  /** The watched namespace (--watch-all-namespaces=false); undefined: all. */
  namespace?: string;
  /** Label selector of the watched ConfigMaps and Secrets (default reconcile.fluxcd.io/watch=Enabled). */
  labelSelector?: string;
  log: Logger;
  /** Tests may shorten the informer's timings. */
  informer?: Pick<InformerOptions, "watchdogMs" | "resyncPeriodMs">;
}

/** Keys of the Kustomizations whose postBuild.substituteFrom names `kind/name` in `namespace`. */
export function referencing(
  kustomizations: readonly KustomizationObject[],
  kind: string,
  namespace: string,
  name: string,
): string[] {
  return kustomizations
    .filter(
      (k) =>
        (k.metadata.namespace ?? "") === namespace &&
        (k.spec.postBuild?.substituteFrom ?? []).some((ref) => ref.kind === kind && ref.name === name),
    )
    .map((k) => `${k.metadata.namespace ?? ""}/${k.metadata.name}`);
}

export class ConfigWatch {
  private readonly informers: Informer[] = [];
  private started = false;
  private stopped = false;

  constructor(private readonly options: ConfigWatchOptions) {
    const maybeStart = (k: KustomizationObject) => {
      if (!this.started && (k.spec.postBuild?.substituteFrom?.length ?? 0) > 0) this.start();
    };
    options.kustomizations.addHandlers({ onAdd: maybeStart, onUpdate: (_old, k) => maybeStart(k) });
  }

  /** Whether the informers are running (for tests). */
  get watching(): boolean {
    return this.started && !this.stopped;
  }

  stop(): void {
    this.stopped = true;
    for (const i of this.informers) i.stop();
  }

  private start(): void {
    if (this.stopped) return;
    this.started = true;
    for (const type of [configMapType, secretType]) this.watch(type);
  }

  private watch(type: ResourceType): void {
    const { options } = this;
    const informer = createInformer(options.client, type, {
      metadataOnly: true,
      labelSelector: options.labelSelector ?? defaultWatchConfigsSelector,
      ...(options.namespace ? { namespace: options.namespace } : {}),
      logger: options.log,
      ...options.informer,
    });
    const changed = (obj: KubeObject) => {
      // The first list is not a change: every Kustomization is reconciled at start anyway.
      if (!informer.hasSynced()) return;
      const keys = referencing(
        options.kustomizations.cache.list(),
        type.kind,
        obj.metadata.namespace ?? "",
        obj.metadata.name,
      );
      if (keys.length === 0) return;
      options.log.debug({ kind: type.kind, name: obj.metadata.name, kustomizations: keys }, "substituteFrom changed");
      for (const key of keys) options.enqueue(key);
    };
    informer.addHandlers({
      onAdd: changed,
      // A resync hands over the same resourceVersion: not a change.
      onUpdate: (oldObj, newObj) => {
        if (oldObj.metadata.resourceVersion !== newObj.metadata.resourceVersion) changed(newObj);
      },
      onDelete: changed,
    });
    this.informers.push(informer);
    informer.start().catch((err: unknown) => {
      if (!this.stopped) options.log.warn({ kind: type.kind, error: (err as Error).message }, "config watch failed");
    });
  }
}
