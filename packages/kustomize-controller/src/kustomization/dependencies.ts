// spec.dependsOn: every listed Kustomization must be ready (Ready=True for its current generation) or satisfy its
// readyExpr before this one is built.
import { kustomizationType } from "@capstan/api";
import { isTrue, StallingError, WaitingError } from "@capstan/runtime";
import { Environment } from "@marcbachmann/cel-js";
import type { Client } from "../kube.js";
import type { KustomizationObject } from "./types.js";

export const dependencyNotReady = "DependencyNotReady";

function toCel(v: unknown): unknown {
  if (typeof v === "number") return Number.isInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map(toCel);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toCel(x)]));
  return v;
}

function evaluateReadyExpr(expr: string, self: KustomizationObject, dep: KustomizationObject): boolean {
  let program: (vars: Record<string, unknown>) => unknown;
  try {
    program = new Environment({ unlistedVariablesAreDyn: true, enableOptionalTypes: true }).parse(expr);
  } catch (cause) {
    throw new StallingError(`invalid readyExpr '${expr}': ${(cause as Error).message}`, {
      reason: "InvalidCELExpression",
      cause,
    });
  }
  try {
    return program({ self: toCel(self), dep: toCel(dep) }) === true;
  } catch {
    return false;
  }
}

/** Throws WaitingError (DependencyNotReady) naming the first dependency that is not ready. */
export async function checkDependencies(
  client: Client,
  obj: KustomizationObject,
  requeueAfterMs: number,
): Promise<void> {
  for (const d of obj.spec.dependsOn ?? []) {
    const namespace = d.namespace || obj.metadata.namespace;
    const id = `${namespace}/${d.name}`;
    const dep = await client.get<KustomizationObject>({
      apiVersion: kustomizationType.apiVersion,
      kind: kustomizationType.kind,
      name: d.name,
      ...(namespace ? { namespace } : {}),
    });
    const notReady = (why: string) =>
      new WaitingError(`dependency '${id}' is not ready: ${why}`, { reason: dependencyNotReady, requeueAfterMs });
    if (!dep) throw notReady("not found");
    if (d.readyExpr) {
      if (!evaluateReadyExpr(d.readyExpr, obj, dep)) throw notReady("readyExpr is false");
      continue;
    }
    if (dep.status?.observedGeneration !== dep.metadata.generation) throw notReady("generation not yet reconciled");
    if (!isTrue(dep, "Ready")) throw notReady("Ready condition is not True");
  }
}
