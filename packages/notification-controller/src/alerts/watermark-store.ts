// The durable high-water mark of an Alert: for each object it watches, the ObservedState last notified (encoded), in a
// ConfigMap owned by the Alert (garbage-collected with it). See alerts/README.md for why a ConfigMap and how it keeps
// "once per transition" across restarts.
import type { Client, KubeObject, ObjectRef } from "@capstan/runtime";
import { shortHash } from "../events/transitions.js";

/** The slice of the runtime's Client this store needs. */
export type ConfigMapClient = Pick<Client, "get" | "create" | "mergePatch">;

export interface AlertIdentity {
  apiVersion: string;
  namespace: string;
  name: string;
  uid: string;
  generation?: number;
}

export interface StoredWatermark {
  entries: Map<string, string>;
  /** The Alert generation the entries were recorded under. */
  generation?: number;
}

export interface WatermarkStore {
  /** undefined: this Alert has no mark yet (new Alert, or a recreated one with the same name). */
  load(alert: AlertIdentity): Promise<StoredWatermark | undefined>;
  /** Sets (string) or removes (null) entries; creates the mark when missing, with `all` as its content. */
  save(alert: AlertIdentity, changes: Map<string, string | null>, all: Map<string, string>): Promise<void>;
}

export const generationAnnotation = "notification.capstan.dev/alert-generation";

export function watermarkConfigMapName(alertName: string): string {
  const suffix = "-notification-mark";
  if (alertName.length + suffix.length <= 253) return `${alertName}${suffix}`;
  return `${alertName.slice(0, 253 - suffix.length - 13)}-${shortHash(alertName)}${suffix}`;
}

/** ConfigMap keys allow [-._a-zA-Z0-9], up to 253 characters; Kubernetes names already fit the alphabet. */
export function watermarkKey(obj: { kind: string; namespace?: string; name: string }): string {
  const key = `${obj.kind}.${obj.namespace ?? ""}.${obj.name}`;
  return key.length <= 253 ? key : `${obj.kind}.${shortHash(key)}`;
}

export class ConfigMapWatermarkStore implements WatermarkStore {
  constructor(
    private readonly client: ConfigMapClient,
    private readonly fieldManager = "notification-controller",
  ) {}

  private ref(alert: AlertIdentity): ObjectRef {
    return {
      apiVersion: "v1",
      kind: "ConfigMap",
      namespace: alert.namespace,
      name: watermarkConfigMapName(alert.name),
    };
  }

  async load(alert: AlertIdentity): Promise<StoredWatermark | undefined> {
    const cm = await this.client.get(this.ref(alert));
    if (!cm) return undefined;
    // A ConfigMap left by a deleted Alert of the same name (not yet garbage-collected) is not ours.
    const owner = cm.metadata.ownerReferences?.find((o) => o.kind === "Alert");
    if (owner && owner.uid !== alert.uid) return undefined;
    const data = (cm.data ?? {}) as Record<string, string>;
    const generation = Number(cm.metadata.annotations?.[generationAnnotation]);
    return {
      entries: new Map(Object.entries(data)),
      ...(Number.isFinite(generation) ? { generation } : {}),
    };
  }

  async save(alert: AlertIdentity, changes: Map<string, string | null>, all: Map<string, string>): Promise<void> {
    const ref = this.ref(alert);
    const annotations: Record<string, string> =
      alert.generation !== undefined ? { [generationAnnotation]: String(alert.generation) } : {};
    const existing = await this.client.get(ref);
    const stale = existing?.metadata.ownerReferences?.some((o) => o.kind === "Alert" && o.uid !== alert.uid);
    if (existing && !stale) {
      await this.client.mergePatch(
        ref,
        { metadata: { annotations }, data: Object.fromEntries(changes) },
        { fieldManager: this.fieldManager },
      );
      return;
    }
    const body: KubeObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: ref.name,
        namespace: alert.namespace,
        annotations,
        labels: { "app.kubernetes.io/managed-by": "notification-controller" },
        ownerReferences: [{ apiVersion: alert.apiVersion, kind: "Alert", name: alert.name, uid: alert.uid }],
      },
      data: Object.fromEntries(all),
    };
    if (stale) {
      // Replace the previous Alert's mark wholesale: keys it had that we do not must go too.
      const removed = Object.fromEntries(
        Object.keys((existing?.data ?? {}) as Record<string, string>)
          .filter((k) => !all.has(k))
          .map((k) => [k, null]),
      );
      await this.client.mergePatch(
        ref,
        {
          metadata: { ownerReferences: body.metadata.ownerReferences, annotations },
          data: { ...removed, ...(body.data as object) },
        },
        { fieldManager: this.fieldManager },
      );
      return;
    }
    await this.client.create(body, { fieldManager: this.fieldManager });
  }
}

/** For tests and single-process tools: the same contract, in memory. */
export class MemoryWatermarkStore implements WatermarkStore {
  readonly marks = new Map<string, StoredWatermark & { uid: string }>();
  saves = 0;

  async load(alert: AlertIdentity): Promise<StoredWatermark | undefined> {
    const m = this.marks.get(`${alert.namespace}/${alert.name}`);
    if (!m || m.uid !== alert.uid) return undefined;
    return { entries: new Map(m.entries), ...(m.generation !== undefined ? { generation: m.generation } : {}) };
  }

  async save(alert: AlertIdentity, changes: Map<string, string | null>, all: Map<string, string>): Promise<void> {
    this.saves++;
    const key = `${alert.namespace}/${alert.name}`;
    const m = this.marks.get(key);
    if (!m || m.uid !== alert.uid) {
      this.marks.set(key, {
        uid: alert.uid,
        entries: new Map(all),
        ...(alert.generation !== undefined ? { generation: alert.generation } : {}),
      });
      return;
    }
    for (const [k, v] of changes) {
      if (v === null) m.entries.delete(k);
      else m.entries.set(k, v);
    }
    if (alert.generation !== undefined) m.generation = alert.generation;
  }
}
