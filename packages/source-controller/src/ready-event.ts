// When a source's pass that ends Ready emits the Ready Event, as Flux's source-controller notifies: a pass that stored
// a new artifact says so with its own Event (NewArtifact, or ChartPullSucceeded/ChartPackageSucceeded for a
// HelmChart) and no other; one that kept the artifact emits Ready's Event (reason Succeeded) only when it recovered
// from a failure (Ready was False). A first reconcile therefore emits one Event, not two, and a periodic one none.
import { getCondition, type WithConditions } from "@capstan/runtime";

type SourceStatus = { artifact?: { digest?: string } } | undefined;

export function sourceReadyEvent<T extends WithConditions>(before: T["status"] | undefined, obj: T): boolean {
  const digest = (s: unknown) => (s as SourceStatus)?.artifact?.digest;
  if (digest(obj.status) !== digest(before)) return false;
  const wasReady = getCondition({ ...obj, status: before } as T, "Ready");
  return wasReady?.status === "False";
}
