// spec.healthCheckExprs: CEL expressions per apiVersion/kind that replace the built-in rules, evaluated in Flux's
// order (inProgress, then failed, then current) against the object's top-level fields.
import { Environment } from "@marcbachmann/cel-js";
import type { KubeObject } from "../kube.js";
import { isRecord } from "../object.js";
import type { StatusResult } from "./kstatus.js";

export interface HealthCheckExpr {
  apiVersion: string;
  kind: string;
  current: string;
  inProgress?: string;
  failed?: string;
}

type Program = (vars: Record<string, unknown>) => unknown;

export interface CompiledExprs {
  apiVersion: string;
  kind: string;
  current: Program;
  inProgress?: Program;
  failed?: Program;
}

export class CelExprError extends Error {
  override name = "CelExprError";
}

function newEnvironment(): Environment {
  return new Environment({
    unlistedVariablesAreDyn: true,
    homogeneousAggregateLiterals: false,
    enableOptionalTypes: true,
  });
}

function compile(env: Environment, source: string, what: string): Program {
  try {
    const program = env.parse(source);
    return (vars) => program(vars);
  } catch (cause) {
    throw new CelExprError(`failed to parse ${what} expression '${source}': ${(cause as Error).message}`, { cause });
  }
}

/** Parses every expression up front, so a typo is a spec error and not a health check that never passes. */
export function compileExprs(exprs: readonly HealthCheckExpr[]): CompiledExprs[] {
  const env = newEnvironment();
  return exprs.map((e) => {
    const compiled: CompiledExprs = {
      apiVersion: e.apiVersion,
      kind: e.kind,
      current: compile(env, e.current, `${e.kind} current`),
    };
    if (e.inProgress) compiled.inProgress = compile(env, e.inProgress, `${e.kind} inProgress`);
    if (e.failed) compiled.failed = compile(env, e.failed, `${e.kind} failed`);
    return compiled;
  });
}

/** JSON integers become CEL ints, so `status.replicas == 1` compares int with int. */
function toCel(v: unknown): unknown {
  if (typeof v === "number") return Number.isInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map(toCel);
  if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toCel(x)]));
  return v;
}

function truthy(program: Program, vars: Record<string, unknown>, what: string): boolean {
  const result = program(vars);
  if (typeof result !== "boolean") throw new CelExprError(`${what} expression did not evaluate to a bool`);
  return result;
}

export function findExprs(all: readonly CompiledExprs[], obj: KubeObject): CompiledExprs | undefined {
  return all.find((e) => e.apiVersion === obj.apiVersion && e.kind === obj.kind);
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
