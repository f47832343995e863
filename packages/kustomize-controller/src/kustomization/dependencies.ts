// spec.dependsOn: every listed Kustomization must be ready before this one is built, as Flux's checkDependencies:
// Ready=True for its current generation and, when it is built from the same source, at the revision this one is
// about to apply. A readyExpr replaces that built-in check, or adds to it with AdditiveCELDependencyCheck.
import { KustomizationReasons, kustomizationType } from "@capstan/api";
import {
  type CelProgram,
  Conditions,
  compileCel,
  isTrue,
  Reasons,
  StallingError,
  toCel,
  WaitingError,
} from "@capstan/runtime";
import type { Client } from "../kube.js";
import { denyCrossNamespace } from "./source.js";
import type { KustomizationObject } from "./types.js";

export interface DependencyCheckOptions {
  /** How soon to look again (--requeue-dependency). */
  requeueAfterMs: number;
  /** The revision of this Kustomization's source artifact: a dependency on the same source must have applied it. */
  sourceRevision: string;
  /** Feature gate AdditiveCELDependencyCheck: run the built-in check as well as a readyExpr. */
  additiveCel?: boolean;
  /**
   * (Capstan) --no-cross-namespace-refs covers dependsOn too: a dependency in another namespace is refused
   * (AccessDenied) before it is read, so a tenant cannot probe another namespace's Kustomizations (Flux checks only
   * sourceRef).
   */
  noCrossNamespaceRefs?: boolean;
}

function sameSource(a: KustomizationObject, b: KustomizationObject): boolean {
  const ra = a.spec.sourceRef;
  const rb = b.spec.sourceRef;
  return (
    ra.kind === rb.kind &&
    ra.name === rb.name &&
    (ra.namespace || a.metadata.namespace) === (rb.namespace || b.metadata.namespace)
  );
}

/** Evaluates a readyExpr; a runtime error (a missing field, say) reads as not ready and says why. */
function evaluateReadyExpr(
  expr: string,
  self: KustomizationObject,
  dep: KustomizationObject,
): { ready: boolean; error?: string } {
  let program: CelProgram;
  try {
    program = compileCel(expr);
  } catch (cause) {
    throw new StallingError(`invalid readyExpr '${expr}': ${(cause as Error).message}`, {
      reason: Reasons.InvalidCELExpression,
      cause,
    });
  }
  let result: unknown;
  try {
    result = program.evaluate({ self: toCel(self), dep: toCel(dep) });
  } catch (cause) {
    return { ready: false, error: (cause as Error).message };
  }
  if (typeof result !== "boolean") {
    throw new StallingError(`invalid readyExpr '${expr}': it must evaluate to a bool, got ${typeof result}`, {
      reason: Reasons.InvalidCELExpression,
    });
  }
  return { ready: result };
}

/** Why one dependency is not ready yet, or undefined when it is. */
function whyNotReady(
  obj: KustomizationObject,
  ref: { readyExpr?: string },
  dep: KustomizationObject,
  id: string,
  options: DependencyCheckOptions,
): string | undefined {
  if (ref.readyExpr) {
    const { ready, error } = evaluateReadyExpr(ref.readyExpr, obj, dep);
    if (!ready) return `dependency '${id}' is not ready according to readyExpr eval${error ? `: ${error}` : ""}`;
    if (!options.additiveCel) return undefined;
  }
  if (dep.status?.observedGeneration !== dep.metadata.generation) {
    return `dependency '${id}' is not ready: generation not yet reconciled`;
  }
  if (!isTrue(dep, Conditions.Ready)) return `dependency '${id}' is not ready: Ready condition is not True`;
  // Built from the same source: applying this revision before the dependency did would break the ordering.
  if (sameSource(obj, dep) && dep.status?.lastAppliedRevision !== options.sourceRevision) {
    return `dependency '${id}' revision is not up to date`;
  }
  return undefined;
}

/** Throws WaitingError (DependencyNotReady) naming the first dependency that is not ready. */
export async function checkDependencies(
  client: Client,
  obj: KustomizationObject,
  options: DependencyCheckOptions,
): Promise<void> {
  const deps = obj.spec.dependsOn ?? [];
  if (options.noCrossNamespaceRefs) {
    for (const d of deps) denyCrossNamespace(obj, "Kustomization", d.namespace || obj.metadata.namespace || "", d.name);
  }
  for (const d of deps) {
    const namespace = d.namespace || obj.metadata.namespace;
    const id = `${namespace}/${d.name}`;
    const dep = await client.get<KustomizationObject>({
      apiVersion: kustomizationType.apiVersion,
      kind: kustomizationType.kind,
      name: d.name,
      ...(namespace ? { namespace } : {}),
    });
    const why = dep ? whyNotReady(obj, d, dep, id, options) : `dependency '${id}' is not ready: not found`;
    if (why)
      throw new WaitingError(why, {
        reason: KustomizationReasons.DependencyNotReady,
        requeueAfterMs: options.requeueAfterMs,
      });
  }
}
