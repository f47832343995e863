// The Kustomization as the reconciler handles it, and what its steps pass along.
import type { GitRepository, Kustomization } from "@capstan/api";
import type { WithConditions } from "@capstan/runtime";
import type { Client } from "../kube.js";

export type KustomizationObject = Kustomization & WithConditions;
export type GitRepositoryObject = GitRepository & WithConditions;

/** What earlier steps found, for later ones. */
export interface State {
  /** The client that applies: impersonating spec.serviceAccountName, or for spec.kubeConfig's cluster. */
  client?: Client;
  artifact?: { url: string; digest: string; revision: string; originRevision?: string };
}
