// The apply step's work: the inventory recorded before the first write (crash-safe prune), the apply shortcut for an
// unchanged, undrifted set, and the staged server-side apply itself (Flux's reason ReconciliationFailed).
import { KustomizationReasons, type ResourceInventory } from "@capstan/api";
import { Annotations, ReconcileError } from "@capstan/runtime";
import { type ChangeSetEntry, changeLog, entry } from "../apply/changeset.js";
import { type ApplyEngine, ApplySetError } from "../apply/engine.js";
import { kustomizeApplyOptions } from "../apply/options.js";
import type { ApplyFacts, ApplyShortcut } from "../drift/shortcut.js";
import { inventoryOf, staleEntries } from "../inventory/inventory.js";
import type { KubeObject } from "../kube.js";
import { anyInMetadata, groupKindOf, groupOf } from "../object.js";
import { keyOf } from "./build.js";
import type { Progress } from "./progress.js";
import type { Applied, KustomizationObject, Rendered } from "./types.js";

export interface ApplyInput {
  obj: KustomizationObject;
  engine: ApplyEngine;
  rendered: Rendered;
  fieldManager: string;
  timeoutMs: number;
  progress: Progress;
  shortcut: ApplyShortcut | undefined;
  /** Logs that the apply was skipped. */
  skipped(objects: number): void;
  /** A part of the apply as a span of the reconcile trace (the runtime's `traced` over the reconcile's context). */
  span?<R>(name: string, fn: () => Promise<R>): Promise<R>;
  /** The wait between stages without holding a worker (the runtime's `parked` over the reconcile's context). */
  park?<R>(wait: (signal: AbortSignal | undefined) => Promise<R>): Promise<R>;
}

const { exclusionSelector, ifNotPresentSelector } = kustomizeApplyOptions("", {});
const leftAlone = { ...exclusionSelector, ...ifNotPresentSelector };

function sameIds(a: ResourceInventory | undefined, b: ResourceInventory): boolean {
  const ids = (a?.entries ?? []).map((e) => `${e.id}@${e.v}`);
  return ids.length === b.entries.length && b.entries.every((e, i) => ids[i] === `${e.id}@${e.v}`);
}

/**
 * (Capstan) Before the first write of an apply, status.inventory becomes the union of what it held and what is about
 * to be applied, on record: a crash (or a failure) at any object leaves every object that may exist listed, and the
 * next successful reconcile prunes those no longer in the source. Flux records the inventory only after the apply, so
 * objects created by an interrupted apply and gone from Git by the next one are never pruned. Only written when the
 * set holds objects the inventory does not and the apply writes at all (an apply whose dry-runs fail leaves the
 * inventory as it was): one status write per reconcile that adds objects.
 */
async function recordIntent(obj: KustomizationObject, objects: readonly KubeObject[], progress: Progress) {
  const previous = obj.status?.inventory;
  const next = inventoryOf(objects);
  const held = new Set((previous?.entries ?? []).map((e) => e.id));
  if (next.entries.every((e) => held.has(e.id))) return;
  obj.status ??= {};
  obj.status.inventory = { entries: [...next.entries, ...staleEntries(previous, next)] };
  try {
    await progress.write();
  } catch (cause) {
    throw new ReconcileError(`failed to record the inventory before applying: ${(cause as Error).message}`, {
      reason: KustomizationReasons.ReconciliationFailed,
      cause,
    });
  }
}

async function applyAll(input: ApplyInput): Promise<ChangeSetEntry[]> {
  const { obj, rendered } = input;
  let intent: Promise<void> | undefined;
  try {
    return await input.engine.applyAllStaged(rendered.objects, {
      ...kustomizeApplyOptions(input.fieldManager, {
        force: obj.spec.force ?? false,
        ignore: obj.spec.ignore ?? [],
        timeoutMs: input.timeoutMs,
      }),
      beforeWrite: () => {
        intent ??= input.span
          ? input.span("apply.intent", () => recordIntent(obj, rendered.objects, input.progress))
          : recordIntent(obj, rendered.objects, input.progress);
        return intent;
      },
      ...(input.span ? { span: input.span } : {}),
      ...(input.park ? { park: input.park } : {}),
    });
  } catch (cause) {
    const done = cause instanceof ApplySetError ? changeLog(cause.changeSet) : "";
    if (done)
      throw new ReconcileError(`${(cause as Error).message}\n${done}`, {
        reason: KustomizationReasons.ReconciliationFailed,
      });
    throw new ReconcileError(`apply failed${cause instanceof Error ? `: ${cause.message}` : ""}`, {
      reason: KustomizationReasons.ReconciliationFailed,
      cause,
    });
  }
}

/** What the shortcut compares between this apply and the last full one. */
function factsOf(obj: KustomizationObject, rendered: Rendered): ApplyFacts {
  const { objects, digest } = rendered;
  return {
    uid: obj.metadata.uid ?? "",
    generation: obj.metadata.generation ?? 0,
    requestedAt: obj.metadata.annotations?.[Annotations.ReconcileRequest],
    digest,
    kinds: [...new Set(objects.map((o) => groupKindOf(groupOf(o.apiVersion), o.kind)))],
    // Objects the apply leaves alone (ssa: IfNotPresent, Ignore, reconcile: disabled) may well not carry our labels.
    ids: inventoryOf(objects.filter((o) => !anyInMetadata(o, leftAlone))).entries.map((e) => e.id),
  };
}

/**
 * Applies, unless the apply shortcut (drift/shortcut.ts) says that the cluster already holds this exact set: then
 * every object counts as unchanged and no object is read or dry-run.
 */
export async function applyOrSkip(input: ApplyInput): Promise<Applied> {
  const { obj, rendered, shortcut } = input;
  // A remote cluster (spec.kubeConfig) is not watched; a hand-edited inventory is repaired by a full apply.
  if (!shortcut || obj.spec.kubeConfig) return { changeSet: await applyAll(input) };
  const key = keyOf(obj);
  const facts = factsOf(obj, rendered);
  if (sameIds(obj.status?.inventory, inventoryOf(rendered.objects)) && shortcut.trySkip(key, facts)) {
    input.skipped(rendered.objects.length);
    return { changeSet: rendered.objects.map((o) => entry(o, "unchanged")) };
  }
  const ticket = shortcut.begin(key, facts.kinds);
  const changeSet = await applyAll(input);
  return { changeSet, commitShortcut: () => shortcut.commit(key, ticket, facts) };
}
