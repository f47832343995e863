// What the server sends the browser: small, already-summarised views of the toolkit objects. Shared by both halves so
// that the wire format has one definition. Nothing here ever carries a token, a Secret value or a Provider address.
import type { WireBatch } from "./wire.js";

export type { WireBatch } from "./wire.js";

/** Where an object stands, in the words of the overview (kstatus, plus Flux's suspend). */
export type State = "ready" | "failing" | "stalled" | "reconciling" | "suspended" | "unknown";
export const states: readonly State[] = ["failing", "stalled", "reconciling", "suspended", "ready", "unknown"];

/** The toolkit kinds, plus the controllers' own Deployments (labelled app.kubernetes.io/part-of=flux). */
export type SummaryKind =
  | "Kustomization"
  | "GitRepository"
  | "Provider"
  | "Alert"
  | "Receiver"
  | "Deployment"
  | "HelmRelease"
  | "HelmRepository"
  | "HelmChart"
  | "OCIRepository";
export const summaryKinds: readonly SummaryKind[] = [
  "Kustomization",
  "HelmRelease",
  "GitRepository",
  "Provider",
  "Alert",
  "Receiver",
  "HelmRepository",
  "HelmChart",
  "OCIRepository",
];
/** The source kinds the Sources page lists (and links to). */
export const sourceKinds: readonly SummaryKind[] = ["GitRepository", "OCIRepository", "HelmRepository", "HelmChart"];
/** What the applications list shows. */
export const applicationKinds: readonly SummaryKind[] = ["Kustomization", "HelmRelease"];

export interface ObjectRefView {
  kind: string;
  name: string;
  namespace: string;
}

/** One toolkit object as the lists show it. `key` is `<kind>/<namespace>/<name>`. */
export interface Summary {
  key: string;
  kind: SummaryKind;
  namespace: string;
  name: string;
  state: State;
  /** The Ready condition's status, reason and message ("" when there is none). */
  ready: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  /** When Ready last changed (RFC 3339), or "". */
  since: string;
  suspended: boolean;
  /**
   * Kustomization: lastAppliedRevision; a source (GitRepository, OCIRepository, HelmRepository, HelmChart): the
   * artifact's revision; HelmRelease: the chart version of its latest release (status.history[0]).
   */
  revision: string;
  /** Kustomization, HelmRelease: lastAttemptedRevision. */
  attemptedRevision: string;
  /**
   * Kustomization: its source; HelmRelease: its chart's source (spec.chart.spec.sourceRef) or spec.chartRef;
   * HelmChart: its source (spec.sourceRef).
   */
  source?: ObjectRefView;
  /** Kustomization: dependsOn, namespaces defaulted. */
  dependsOn?: ObjectRefView[];
  /**
   * Kustomization: spec.path; GitRepository, OCIRepository, HelmRepository: the URL without credentials; HelmRelease,
   * HelmChart: the chart's name.
   */
  path: string;
  /**
   * GitRepository: branch, tag, semver or commit asked for; OCIRepository: tag, semver or digest asked for;
   * HelmChart: the version asked for; HelmRepository: its type ("oci" or "default").
   */
  ref?: string;
  /** Sources: the artifact's digest, size (bytes) and when it last changed (RFC 3339). */
  artifact?: { digest: string; size?: number; lastUpdate: string };
  /** Number of applied objects (Kustomization inventory). */
  inventoryCount?: number;
}

export interface EventView {
  key: string;
  namespace: string;
  involved: ObjectRefView;
  type: string;
  reason: string;
  message: string;
  count: number;
  /** The most recent time the Event happened (RFC 3339). */
  time: string;
  source: string;
}

/** How many objects of each kind are in each state. */
export type StateCounts = Partial<Record<SummaryKind, Record<State, number>>>;

/**
 * The first message on the stream (event `snapshot`). With many objects it holds what the first screen needs: the
 * counts of everything, the failing and stalled objects first in line (up to 100), the first applications in the
 * list's order (up to 100), the controllers' Deployments and the most recent Events; `more` says the rest follows in
 * `items` messages, then a `snapshot-end`, before any change. Items are in the order of shared/order.ts, in the
 * compact form of wire.ts.
 */
export interface Snapshot {
  items: WireBatch;
  events: EventView[];
  counts: StateCounts;
  more: boolean;
}

/** The rest of a first snapshot (event `items`). */
export interface SnapshotItems {
  items: WireBatch;
}

/** The end of a first snapshot (event `snapshot-end`): the older Events. */
export interface SnapshotEnd {
  events: EventView[];
}

/** A batch of changes pushed on the stream after the snapshot. */
export interface ChangeBatch {
  upserts: WireBatch;
  deletes: string[];
  events: EventView[];
  eventDeletes: string[];
}

export interface Identity {
  user: string;
  groups: string[];
  /** --insecure-local: no login, the server's own credentials. */
  insecure: boolean;
}

export type Health = "Current" | "InProgress" | "Failed" | "Terminating" | "NotFound" | "Unknown" | "Forbidden";

export interface InventoryItem {
  id: string;
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  health: Health;
  message: string;
}

export interface ConditionView {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface HistoryView {
  digest: string;
  revision: string;
  firstReconciled: string;
  lastReconciled: string;
  lastReconciledDuration: string;
  lastReconciledStatus: string;
  totalReconciliations: number;
}

/** One Helm release of a HelmRelease (status.history: a snapshot per release, newest first). */
export interface ReleaseView {
  /** The Helm release's revision (helm history's REVISION). */
  version: number;
  chartName: string;
  chartVersion: string;
  appVersion: string;
  /** deployed, superseded, failed, uninstalled… as Helm writes it. */
  status: string;
  firstDeployed: string;
  lastDeployed: string;
  digest: string;
}

export interface SourceView {
  kind: string;
  namespace: string;
  name: string;
  /** Without credentials; a HelmChart's: that of the repository it is pulled from. */
  url: string;
  /** Git: branch, tag…; OCI: tag, semver or digest; HelmChart: the version asked for; HelmRepository: its type. */
  ref: string;
  /** HelmChart: the chart's name, and the source it is pulled from. */
  chart?: string;
  from?: ObjectRefView;
  revision: string;
  digest: string;
  size?: number;
  lastUpdateTime: string;
  /** A link to the commit on GitHub, GitLab or Bitbucket, when the URL is one of theirs. */
  commitUrl?: string;
  state: State;
  message: string;
}

/** A drift correction: objects changed or deleted by hand and put back by an apply of an already applied revision. */
export interface DriftView {
  /** When the correction was applied (RFC 3339). */
  time: string;
  revision: string;
  /** "<Kind>/<namespace>/<name> configured|created", as the controller's Event lists them. */
  objects: string[];
  /** How many corrections of this same change set the time stands for (the last one's time). */
  count: number;
}

export interface Detail {
  summary: Summary;
  conditions: ConditionView[];
  generation: number;
  observedGeneration: number;
  interval: string;
  prune?: boolean;
  targetNamespace?: string;
  lastHandledReconcileAt: string;
  requestedAt: string;
  history: HistoryView[];
  /** HelmRelease: its Helm releases (status.history), newest first. */
  releases?: ReleaseView[];
  /**
   * Kustomization: its source; HelmRelease: the HelmChart (or spec.chartRef's OCIRepository) its chart comes from;
   * a source: itself.
   */
  source?: SourceView;
  /** Grouped by kind on the page; here in inventory order. */
  inventory: InventoryItem[];
  /** More inventory entries than the page shows (bounded). */
  inventoryTruncated: boolean;
  events: EventView[];
  /** Kustomizations depending on this one. */
  dependents: ObjectRefView[];
  /** Kustomization: drift corrections found in its Events, newest first. */
  drift: DriftView[];
}

export type Action = "reconcile" | "suspend" | "resume";

export interface ActionResult {
  ok: boolean;
  /** The apiserver's message on refusal. */
  message: string;
}
