import type { V1ManagedFieldsEntry, V1ObjectMeta } from "@kubernetes/client-node";

/**
 * metav1.ObjectMeta as it travels as JSON. Timestamps are RFC 3339 strings: client-node's V1ObjectMeta types them as
 * Date, which only its typed (built-in kind) APIs produce; custom objects come back as plain JSON.
 */
export type ObjectMeta = Omit<V1ObjectMeta, "creationTimestamp" | "deletionTimestamp" | "managedFields"> & {
  creationTimestamp?: string;
  deletionTimestamp?: string;
  managedFields?: (Omit<V1ManagedFieldsEntry, "time"> & { time?: string })[];
};
