// Polls objects until all are Current, failing fast on Failed (Flux's --feature-gates fail-fast is the default here)
// and reporting, on timeout, which objects held things up in Flux's message format.

import { setTimeout as sleep } from "node:timers/promises";
import { KustomizationReasons } from "@capstan/api";
import { ReconcileError } from "@capstan/runtime";
import type { Client, KubeObject, ObjectRef } from "../kube.js";
import { type CompiledExprs, evaluateExprs, findExprs } from "./cel.js";
import { computeStatus, type StatusResult } from "./kstatus.js";

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  failFast?: boolean;
  exprs?: readonly CompiledExprs[];
  signal?: AbortSignal;
}

export interface ObjectStatus {
  ref: ObjectRef;
  result: StatusResult;
}

export function statusOf(obj: KubeObject | undefined, exprs: readonly CompiledExprs[] = []): StatusResult {
  if (obj && !obj.metadata.deletionTimestamp) {
    const custom = findExprs(exprs, obj);
    if (custom) return evaluateExprs(custom, obj);
  }
  return computeStatus(obj);
}

function fmtRef(ref: ObjectRef): string {
  return ref.namespace ? `${ref.kind}/${ref.namespace}/${ref.name}` : `${ref.kind}/${ref.name}`;
}

function summary(statuses: ObjectStatus[]): string {
  return statuses.map((s) => `${fmtRef(s.ref)} status: '${s.result.status}'`).join(", ");
}

export async function checkOnce(client: Client, refs: readonly ObjectRef[], exprs?: readonly CompiledExprs[]) {
  return Promise.all(
    refs.map(async (ref): Promise<ObjectStatus> => {
      try {
        return { ref, result: statusOf(await client.get(ref), exprs) };
      } catch (err) {
        return { ref, result: { status: "Unknown", message: (err as Error).message } };
      }
    }),
  );
}

/** Resolves when every object is Current; throws a ReconcileError (HealthCheckFailed) on timeout or (failFast) on a Failed object. */
export async function waitForSet(client: Client, refs: readonly ObjectRef[], options: WaitOptions): Promise<void> {
  if (refs.length === 0) return;
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 2000;
  for (;;) {
    const statuses = await checkOnce(client, refs, options.exprs);
    const pending = statuses.filter((s) => s.result.status !== "Current");
    if (pending.length === 0) return;
    const stalled = pending.filter((s) => s.result.status === "Failed");
    if (stalled.length > 0 && (options.failFast ?? true)) {
      throw new ReconcileError(`failed early due to stalled resources: [${summary(stalled)}]${detail(stalled)}`, {
        reason: KustomizationReasons.HealthCheckFailed,
      });
    }
    if (Date.now() + interval > deadline) {
      throw new ReconcileError(`timeout waiting for: [${summary(pending)}]${detail(pending)}`, {
        reason: KustomizationReasons.HealthCheckFailed,
      });
    }
    await sleep(interval, undefined, { signal: options.signal });
  }
}

function detail(statuses: ObjectStatus[]): string {
  const lines = statuses.filter((s) => s.result.message).map((s) => `${fmtRef(s.ref)}: ${s.result.message}`);
  return lines.length > 0 ? `\n${lines.join("\n")}` : "";
}
