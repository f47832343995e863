import { describe, expect, it } from "vitest";
import type { KubeObject } from "../kube.js";
import { cleanupPatch, defaultCleanup } from "./cleanup.js";

const manager = "kustomize-controller";
const withFields = (managedFields: unknown[], annotations?: Record<string, string>): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "c", managedFields, ...(annotations ? { annotations } : {}) },
});

describe("cleanupPatch", () => {
  it("Given only our own entries, should need no patch", () => {
    const obj = withFields([{ manager, operation: "Apply", apiVersion: "v1", fieldsV1: { "f:data": {} } }]);
    expect(cleanupPatch(obj, manager, defaultCleanup(manager))).toBeUndefined();
  });

  it("Given kubectl edits, should merge their fields into our Apply entry and drop last-applied", () => {
    const obj = withFields(
      [
        { manager, operation: "Apply", apiVersion: "v1", fieldsV1: { "f:data": { "f:a": {} } } },
        { manager: "kubectl-edit", operation: "Update", apiVersion: "v1", fieldsV1: { "f:data": { "f:b": {} } } },
        {
          manager: "kubectl-client-side-apply",
          operation: "Update",
          apiVersion: "v1",
          fieldsV1: { "f:data": { "f:c": {} } },
        },
        { manager: "other", operation: "Update", apiVersion: "v1", fieldsV1: { "f:data": { "f:d": {} } } },
        { manager: "kubectl", operation: "Update", apiVersion: "v1", subresource: "status", fieldsV1: {} },
      ],
      { "kubectl.kubernetes.io/last-applied-configuration": "{}", keep: "me" },
    );
    const patch = cleanupPatch(obj, manager, defaultCleanup(manager)) as {
      metadata: { annotations: Record<string, unknown>; managedFields: Record<string, unknown>[] };
    };
    expect(patch.metadata.annotations).toEqual({ "kubectl.kubernetes.io/last-applied-configuration": null });
    expect(patch.metadata.managedFields).toEqual([
      { manager, operation: "Apply", apiVersion: "v1", fieldsV1: { "f:data": { "f:a": {}, "f:b": {}, "f:c": {} } } },
      { manager: "other", operation: "Update", apiVersion: "v1", fieldsV1: { "f:data": { "f:d": {} } } },
      { manager: "kubectl", operation: "Update", apiVersion: "v1", subresource: "status", fieldsV1: {} },
    ]);
    // The input object is not modified.
    expect((obj.metadata.managedFields![0] as { fieldsV1: unknown }).fieldsV1).toEqual({ "f:data": { "f:a": {} } });
  });

  it("Given a kubectl entry and no entry of ours, should rename it", () => {
    const obj = withFields([{ manager: "kubectl", operation: "Apply", apiVersion: "v1", fieldsV1: { "f:x": {} } }]);
    const patch = cleanupPatch(obj, manager, defaultCleanup(manager)) as { metadata: { managedFields: unknown[] } };
    expect(patch.metadata.managedFields).toEqual([
      { manager, operation: "Apply", apiVersion: "v1", fieldsV1: { "f:x": {} } },
    ]);
  });
});
