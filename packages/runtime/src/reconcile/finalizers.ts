import type { Client, KubeObject } from "../contracts.js";
import { refOf } from "./object.js";

/**
 * Adds or removes a finalizer with a JSON merge patch that carries the resourceVersion, so that a concurrent writer
 * makes it fail with Conflict (and the key is retried) instead of losing that writer's finalizers.
 * Returns the updated object.
 */
export async function setFinalizer<T extends KubeObject>(
  client: Client,
  obj: T,
  finalizer: string,
  present: boolean,
  fieldManager: string,
): Promise<T> {
  const current = obj.metadata.finalizers ?? [];
  if (current.includes(finalizer) === present) return obj;
  const finalizers = present ? [...current, finalizer] : current.filter((f) => f !== finalizer);
  try {
    return await client.mergePatch<T>(
      refOf(obj),
      { metadata: { finalizers, resourceVersion: obj.metadata.resourceVersion } },
      { fieldManager },
    );
  } catch (cause) {
    throw new Error(`${present ? "add" : "remove"} finalizer ${finalizer}: ${(cause as Error).message}`, { cause });
  }
}
