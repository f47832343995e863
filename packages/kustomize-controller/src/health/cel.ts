// spec.healthCheckExprs: CEL expressions per API group and kind that replace the built-in rules, evaluated in Flux's
// order (inProgress, then failed, then current) against the object's top-level fields. As in Flux, only the group of
// apiVersion is matched (any version), and an entry without kind covers every kind of its group unless an entry names
// the object's kind.
import type { CustomHealthCheck } from "@capstan/api";
import { type CelProgram, compileCel, toCel } from "@capstan/runtime";
import type { KubeObject } from "../kube.js";
import { groupOf } from "../object.js";
import type { StatusResult } from "./kstatus.js";

type Program = CelProgram;

export interface CompiledExprs {
  group: string;
  /** Unset: every kind of the group. */
  kind?: string;
  current: Program;
  inProgress?: Program;
  failed?: Program;
}

export class CelExprError extends Error {
  override name = "CelExprError";
}

/** The runtime's one CEL environment: variables are the object's top-level fields, dynamically typed. */
function compile(source: string, what: string): Program {
  try {
    return compileCel(source);
  } catch (cause) {
    throw new CelExprError(`failed to parse ${what} expression '${source}': ${(cause as Error).message}`, { cause });
  }
}

/** Parses every expression up front, so a typo is a spec error and not a health check that never passes. */
export function compileExprs(exprs: readonly CustomHealthCheck[]): CompiledExprs[] {
  const seen = new Set<string>();
  return exprs.map((e, i) => {
    const group = groupOf(e.apiVersion);
    // Named as Go's GroupKind.String() names it in Flux's message: "Kind.group", ".group" for a whole group.
    const groupKind = `${e.kind ?? ""}${group ? `.${group}` : ""}`;
    if (seen.has(groupKind)) {
      throw new CelExprError(`duplicate custom health check for GroupKind ${groupKind} at healthchecks[${i}]`);
    }
    seen.add(groupKind);
    const what = e.kind ?? e.apiVersion;
    const compiled: CompiledExprs = { group, current: compile(e.current, `${what} current`) };
    if (e.kind) compiled.kind = e.kind;
    if (e.inProgress) compiled.inProgress = compile(e.inProgress, `${what} inProgress`);
    if (e.failed) compiled.failed = compile(e.failed, `${what} failed`);
    return compiled;
  });
}

function truthy(program: Program, vars: Record<string, unknown>, what: string): boolean {
  const result = program.evaluate(vars);
  if (typeof result !== "boolean") throw new CelExprError(`${what} expression did not evaluate to a bool`);
  return result;
}

/** The entry naming the object's group and kind, else the group-wide entry of its group. */
export function findExprs(all: readonly CompiledExprs[], obj: KubeObject): CompiledExprs | undefined {
  const group = groupOf(obj.apiVersion);
  return (
    all.find((e) => e.group === group && e.kind === obj.kind) ??
    all.find((e) => e.group === group && e.kind === undefined)
  );
}

/** Evaluates the expressions; an evaluation error leaves the object InProgress with the error as its message. */
export function evaluateExprs(exprs: CompiledExprs, obj: KubeObject): StatusResult {
  const vars = toCel({ ...obj, status: obj.status ?? {}, spec: obj.spec ?? {} }) as Record<string, unknown>;
  try {
    if (exprs.inProgress && truthy(exprs.inProgress, vars, "inProgress")) {
      return { status: "InProgress", message: "inProgress expression matched" };
    }
    if (exprs.failed && truthy(exprs.failed, vars, "failed"))
      return { status: "Failed", message: "failed expression matched" };
    if (truthy(exprs.current, vars, "current")) return { status: "Current", message: "current expression matched" };
    return { status: "InProgress", message: "current expression not matched yet" };
  } catch (err) {
    return { status: "InProgress", message: `healthCheckExprs: ${(err as Error).message}` };
  }
}
