// Apply order as fluxcd/pkg/ssa: cluster definitions first (CRDs, Namespaces, ClusterRoles), then *Class kinds, then
// the rest by kind (Helm's install order), ties broken by namespace and name so the order never depends on input.
import type { KubeObject } from "../kube.js";
import { groupOf } from "../object.js";

const orderFirst = [
  "CustomResourceDefinition",
  "Namespace",
  "ResourceQuota",
  "StorageClass",
  "ServiceAccount",
  "PodSecurityPolicy",
  "Role",
  "ClusterRole",
  "RoleBinding",
  "ClusterRoleBinding",
  "ConfigMap",
  "Secret",
  "Service",
  "LimitRange",
  "PriorityClass",
  "Deployment",
  "StatefulSet",
  "CronJob",
  "PodDisruptionBudget",
];
const orderLast = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"];

const kindIndex = new Map<string, number>([
  ...orderFirst.map((k, i): [string, number] => [k, -orderFirst.length + i]),
  ...orderLast.map((k, i): [string, number] => [k, 1 + i]),
]);

export function compareObjects(a: KubeObject, b: KubeObject): number {
  const ia = kindIndex.get(a.kind) ?? 0;
  const ib = kindIndex.get(b.kind) ?? 0;
  if (ia !== ib) return ia - ib;
  const ga = groupOf(a.apiVersion);
  const gb = groupOf(b.apiVersion);
  if (ga !== gb) return ga < gb ? -1 : 1;
  if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
  const na = a.metadata.namespace ?? "";
  const nb = b.metadata.namespace ?? "";
  if (na !== nb) return na < nb ? -1 : 1;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

/**
 * Consecutive runs of `sorted` (in compareObjects order) whose kinds share a place in the kind order: each run can be
 * written in parallel without breaking that order. Kinds the order does not name share one place, as in the sort.
 */
export function applyWaves<T>(sorted: readonly T[], objectOf: (item: T) => KubeObject): T[][] {
  const waves: T[][] = [];
  let rank: number | undefined;
  for (const item of sorted) {
    const r = kindIndex.get(objectOf(item).kind) ?? 0;
    if (waves.length === 0 || r !== rank) waves.push([]);
    rank = r;
    waves[waves.length - 1]!.push(item);
  }
  return waves;
}

export function sortObjects<T extends KubeObject>(objects: readonly T[]): T[] {
  return [...objects].sort(compareObjects);
}

export function isCRD(o: KubeObject): boolean {
  return o.kind === "CustomResourceDefinition" && o.apiVersion.startsWith("apiextensions.k8s.io/");
}

export function isClusterDefinition(o: KubeObject): boolean {
  return (
    isCRD(o) ||
    (o.kind === "Namespace" && o.apiVersion === "v1") ||
    (o.kind === "ClusterRole" && o.apiVersion.startsWith("rbac.authorization.k8s.io/"))
  );
}

export function isClassDefinition(o: KubeObject): boolean {
  return o.kind.endsWith("Class");
}

export interface Stages {
  definitions: KubeObject[];
  classes: KubeObject[];
  resources: KubeObject[];
}

export function stageObjects(objects: readonly KubeObject[]): Stages {
  const stages: Stages = { definitions: [], classes: [], resources: [] };
  for (const o of objects) {
    if (isClusterDefinition(o)) stages.definitions.push(o);
    else if (isClassDefinition(o)) stages.classes.push(o);
    else stages.resources.push(o);
  }
  return {
    definitions: sortObjects(stages.definitions),
    classes: sortObjects(stages.classes),
    resources: sortObjects(stages.resources),
  };
}

/** The order applyAllStaged reports objects in: stage by stage, each sorted (stageObjects sorts them). */
export function appliedOrder(objects: readonly KubeObject[]): KubeObject[] {
  const s = stageObjects(objects);
  return [...s.definitions, ...s.classes, ...s.resources];
}
