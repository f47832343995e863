// The Kustomization as the reconciler handles it, and what its steps pass along.
import type { GitRepository, Kustomization, OCIRepository } from "@capstan/api";
import type { WithConditions } from "@capstan/runtime";
import type { ChangeSetEntry } from "../apply/changeset.js";
import type { ApplyEngine } from "../apply/engine.js";
import type { Client, KubeObject } from "../kube.js";
import type { Progress } from "./progress.js";

export type KustomizationObject = Kustomization & WithConditions;
export type GitRepositoryObject = GitRepository & WithConditions;
export type OCIRepositoryObject = OCIRepository & WithConditions;
/** A source kind spec.sourceRef may name: each publishes status.artifact the same way. */
export type SourceObject = GitRepositoryObject | OCIRepositoryObject;

/** The artifact spec.sourceRef publishes, as the resolve-source step found it. */
export interface SourceArtifact {
  url: string;
  digest: string;
  revision: string;
  originRevision?: string;
}

/** What the build step hands on: the rendered set, owner-labelled and in apply order (sorted here, once). */
export interface Rendered {
  objects: KubeObject[];
  /** sha256 of the set as rendered: the status.history entry it counts under, and the apply shortcut's key. */
  digest: string;
}

/** What the apply step hands on. */
export interface Applied {
  /** One entry per object, in apply order; every entry `unchanged` when the apply shortcut skipped the apply. */
  changeSet: ChangeSetEntry[];
  /** Records the apply with the shortcut once the whole reconcile succeeded (undefined: nothing to record). */
  commitShortcut?: () => void;
}

/**
 * What earlier steps found, for later ones. Each field is set by one step (named beside it) and read only by those
 * after it; a later step that finds one unset reports the step order as broken (`need`), never asserts it away.
 */
export interface State {
  /** When the pass started (the duration recorded in status.history). */
  readonly started: number;
  /** Reconciling=True with a message while a pass runs long (progress.ts). */
  progress?: Progress;
  /** resolveSource. */
  source?: SourceArtifact;
  /** impersonate: the client that applies, impersonating spec.serviceAccountName or for spec.kubeConfig's cluster. */
  client?: Client;
  /** impersonate: the apply engine over that client, its writes recorded as this Kustomization's. */
  engine?: ApplyEngine;
  /** build. */
  rendered?: Rendered;
  /** apply. */
  applied?: Applied;
}

/** A field an earlier step sets; unset means the steps run out of order, a bug rather than a condition. */
export function need<K extends keyof State>(state: State, key: K): NonNullable<State[K]> {
  const value = state[key];
  if (value === undefined || value === null) throw new Error(`kustomization steps out of order: ${key} is not set`);
  return value as NonNullable<State[K]>;
}
