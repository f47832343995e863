// The storage sub-reconciler HelmRepository and HelmChart share with Flux's: a recorded artifact whose file is gone,
// or whose bytes no longer match its digest, is dropped (the corrupt file removed) so this pass builds it again; the
// artifact URL is refreshed (the advertised address may have changed).
import type { Artifact } from "@capstan/api";
import {
  markReconciling,
  Reasons,
  ReconcileError,
  removeCondition,
  type Step,
  type WithConditions,
} from "@capstan/runtime";
import type { Storage } from "../storage/storage.js";

export type ArtifactObject = WithConditions & { status?: { artifact?: Artifact; url?: string } };

export interface StorageStepState {
  /** The artifact digest in status when this pass began (even if the storage step then dropped it). */
  previousDigest?: string;
}

export function storageStep<T extends ArtifactObject, S extends StorageStepState>(storage: Storage): Step<T, S> {
  return async (ctx, obj, state) => {
    removeCondition(obj, "StorageOperationFailed");
    const artifact = obj.status?.artifact;
    if (artifact?.digest) state.previousDigest = artifact.digest;
    let missing = false;
    if (artifact) {
      missing = !(await storage.exists(artifact.path));
      const mismatch = missing ? undefined : await storage.verify(artifact.path, artifact.digest);
      if (mismatch) {
        ctx.events.event(
          obj,
          "Warning",
          "ArtifactVerificationFailed",
          `failed to verify integrity of artifact: ${mismatch}`,
        );
        try {
          await storage.remove(artifact.path);
        } catch (err) {
          throw ReconcileError.wrap(err, "failed to remove artifact after digest mismatch");
        }
        missing = true;
      }
      if (missing && obj.status) {
        delete obj.status.artifact;
        delete obj.status.url;
      }
    }
    const current = obj.status?.artifact;
    if (!current) {
      removeCondition(obj, "ArtifactInStorage");
      markReconciling(
        obj,
        Reasons.Progressing,
        missing ? "building artifact: disappeared from storage" : "building artifact",
      );
      return;
    }
    current.url = storage.url(current.path);
  };
}
