// What the HelmRepository sub-reconcilers pass to one another within one pass.
import type { HelmRepository } from "@capstan/api";
import type { WithConditions } from "@capstan/runtime";
import type { RepoIndex } from "../helm/repo-index.js";

export type HelmRepositoryObject = HelmRepository & WithConditions;

export interface HelmRepoState {
  previousDigest?: string;
  /** The repository URL with one trailing slash (Flux's NormalizeURL). */
  url?: string;
  /** "sha256:<hex>" of the index bytes as served. */
  revision?: string;
  index?: RepoIndex;
  size?: number;
  /** The stored artifact already holds this revision. */
  upToDate: boolean;
}

export const newState = (): HelmRepoState => ({ upToDate: false });
