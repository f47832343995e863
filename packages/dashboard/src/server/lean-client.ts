// The informers' view of the API, trimmed to what the summaries read: no metadata.managedFields (on objects written by
// server-side apply often a third of the bytes), no kubectl last-applied annotation, and for a Kustomization its
// inventory reduced to a count and no status.history (the application page reads the object live for those). With
// thousands of objects the caches are most of the server's memory.
import type { Client, KubeObject, ListOptions, ObjectRef, ResourceType, WatchEventType } from "@capstan/runtime";

const lastApplied = "kubectl.kubernetes.io/last-applied-configuration";

function strip<T extends KubeObject>(obj: T): T {
  const meta = obj.metadata;
  if (meta && "managedFields" in meta) delete meta.managedFields;
  if (meta?.annotations && lastApplied in meta.annotations) delete meta.annotations[lastApplied];
  const status = (obj as { status?: Record<string, unknown> }).status;
  if (obj.kind === "Kustomization" && status) {
    const entries = (status.inventory as { entries?: unknown } | undefined)?.entries;
    if (Array.isArray(entries)) status.inventory = { count: entries.length };
    delete status.history;
  }
  return obj;
}

/** Reads through `client`, trimming what list and watch return (see strip). Writes go through as they are. */
export function leanClient(client: Client): Client {
  return {
    resourceFor: (apiVersion: string, kind: string) => client.resourceFor(apiVersion, kind),
    get: async <T extends KubeObject = KubeObject>(ref: ObjectRef) => {
      const obj = await client.get<T>(ref);
      return obj ? strip(obj) : obj;
    },
    list: async <T extends KubeObject = KubeObject>(type: ResourceType, options?: ListOptions) => {
      const res = await client.list<T>(type, options);
      for (const item of res.items) strip(item);
      return res;
    },
    apply: (obj, options) => client.apply(obj, options),
    applyStatus: (obj, options) => client.applyStatus(obj, options),
    mergePatch: (ref, patch, options) => client.mergePatch(ref, patch, options),
    create: (obj, options) => client.create(obj, options),
    delete: (ref, options) => client.delete(ref, options),
    watch: (type, options, onEvent: (type: WatchEventType, obj: KubeObject) => void, onDone) =>
      client.watch(type, options, (t, obj) => onEvent(t, strip(obj)), onDone),
  };
}
