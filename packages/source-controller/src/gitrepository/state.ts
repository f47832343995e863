// What the GitRepository sub-reconcilers pass to one another within one reconcile.
import type { Artifact, GitRepository, GitRepositoryInclude } from "@capstan/api";
import type { WithConditions } from "@capstan/runtime";
import type { CheckoutResult } from "../git/checkout.js";
import type { ResolvedRef } from "../git/remote.js";
import type { SharedArtifact } from "./share.js";

export type GitRepositoryObject = GitRepository & WithConditions;

export interface IncludeSource {
  include: GitRepositoryInclude;
  artifact: Artifact;
}

export interface GitRepoState {
  /** Scratch directory of this reconcile (checkout lives under it); removed at the end whatever happens. */
  tmp?: string;
  resolved?: ResolvedRef;
  checkout?: CheckoutResult;
  includes: IncludeSource[];
  /** The artifact digest in status when this reconcile began (even if the storage step then dropped it). */
  previousDigest?: string;
  /** The remote revision and content settings match the stored artifact: nothing to fetch or build. */
  upToDate: boolean;
  /** (Capstan) Another GitRepository's identical archive, already linked at `path` (this object's own): no checkout. */
  linked?: SharedArtifact;
  /** (Capstan) This reconcile builds an archive others may share: ends that build (share.ts), at the latest at pass end. */
  endShare?: (result?: SharedArtifact) => void;
}

export const newState = (): GitRepoState => ({ includes: [], upToDate: false });

/** The includes as observed in status, normalized so two equal specs compare equal. */
export function normalizeIncludes(includes: readonly GitRepositoryInclude[] | undefined): GitRepositoryInclude[] {
  return (includes ?? []).map((i) => ({
    repository: { name: i.repository.name },
    ...(i.fromPath ? { fromPath: i.fromPath } : {}),
    ...(i.toPath ? { toPath: i.toPath } : {}),
  }));
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** Whether the stored artifact was built with the spec's current content settings (Flux's observed* fields). */
export function contentConfigUnchanged(obj: GitRepositoryObject, includes: readonly IncludeSource[]): boolean {
  const status = obj.status ?? {};
  const spec = obj.spec;
  const includedNow = includes.map((i) => ({ revision: i.artifact.revision, digest: i.artifact.digest }));
  const includedThen = (status.includedArtifacts ?? []).map((a) => ({ revision: a.revision, digest: a.digest }));
  return (
    same(status.observedIgnore, spec.ignore) &&
    Boolean(status.observedRecurseSubmodules) === Boolean(spec.recurseSubmodules) &&
    same(normalizeIncludes(status.observedInclude), normalizeIncludes(spec.include)) &&
    same(
      status.observedSparseCheckout?.length ? status.observedSparseCheckout : undefined,
      spec.sparseCheckout?.length ? spec.sparseCheckout : undefined,
    ) &&
    same(includedThen, includedNow)
  );
}
