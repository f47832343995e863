// The informers' view of the API without metadata.managedFields: the dashboard never shows them, and on objects
// written by server-side apply they are often the largest part (a third of a Kustomization's bytes), so dropping them
// before the cache keeps the server's memory down with thousands of objects.
import type { Client, KubeObject, ListOptions, ObjectRef, ResourceType, WatchEventType } from "@capstan/runtime";

function strip<T extends KubeObject>(obj: T): T {
  if (obj.metadata && "managedFields" in obj.metadata) delete obj.metadata.managedFields;
  return obj;
}

/** Reads through `client`, dropping managedFields from what list and watch return. Writes go through as they are. */
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
