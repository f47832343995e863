// Informers of the kinds Alerts select, started on demand (a cluster with no Alert on Kustomizations never watches
// them), feeding every add/update/delete to the EventPipeline.
import {
  gitRepositoryType,
  helmChartType,
  helmReleaseType,
  helmRepositoryType,
  kustomizationType,
  ociRepositoryType,
} from "@capstan/api";
import type { Informer, ResourceType } from "@capstan/runtime";
import type { WatchedObject } from "./watched.js";

/** Kinds an Alert may select that Capstan serves, so their informers can be started on demand. */
export const watchableKinds: Readonly<Record<string, ResourceType>> = {
  GitRepository: gitRepositoryType,
  Kustomization: kustomizationType,
  HelmRepository: helmRepositoryType,
  HelmChart: helmChartType,
  // helm-controller's kind; its CRD comes with charts/helm-controller (an Alert on it waits until that is installed).
  HelmRelease: helmReleaseType,
  OCIRepository: ociRepositoryType,
};

/** Kinds whose CRD comes with another controller's chart and may be absent. */
const optionalKinds = new Set(["HelmRelease"]);

export interface SourceSink {
  observe(obj: WatchedObject): void;
  forget(obj: WatchedObject): void;
}

export type WatchedInformer = Informer<WatchedObject>;

export class WatchedSources {
  readonly #informers = new Map<string, WatchedInformer>();
  readonly #sink: () => SourceSink | undefined;

  /**
   * `informerFor` returns the shared informer of a kind (the Manager's); `sink` is read at each event, so the
   * pipeline can be built after this.
   */
  constructor(
    private readonly kinds: Readonly<Record<string, ResourceType>>,
    private readonly informerFor: (type: ResourceType) => WatchedInformer,
    sink: () => SourceSink | undefined,
  ) {
    this.#sink = sink;
  }

  isWatchable(kind: string): boolean {
    return kind in this.kinds;
  }

  /**
   * Starts watching `kind` if needed and resolves once its cache is synced. A kind another chart installs (HelmRelease)
   * may have no CRD yet: its informer keeps retrying in the background, and the Alert binds without waiting longer
   * than `optionalWaitMs`, so one missing CRD never holds an Alert's other sources back.
   */
  async ensure(kind: string, optionalWaitMs = 5_000): Promise<void> {
    const informer = this.#informer(kind);
    if (!informer) throw new Error(`kind ${kind} is not watched by Capstan`);
    if (!optionalKinds.has(kind)) {
      await informer.start();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      informer.start(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, optionalWaitMs);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /** Every cached object of every watched kind. */
  list(): WatchedObject[] {
    return [...this.#informers.values()].flatMap((i) => i.cache.list());
  }

  #informer(kind: string): WatchedInformer | undefined {
    const existing = this.#informers.get(kind);
    if (existing) return existing;
    const type = this.kinds[kind];
    if (!type) return undefined;
    const informer = this.informerFor(type);
    informer.addHandlers({
      onAdd: (obj) => this.#sink()?.observe(obj),
      onUpdate: (_old, obj) => this.#sink()?.observe(obj),
      onDelete: (obj) => this.#sink()?.forget(obj),
    });
    this.#informers.set(kind, informer);
    return informer;
  }
}
