// spec.healthCheckExprs: CEL expressions per API group and kind that replace the built-in rules, evaluated in Flux's
// order (inProgress, then failed, then current) against the object's top-level fields. As in Flux, only the group of
// apiVersion is matched (any version), and an entry without kind covers every kind of its group unless an entry names
// the object's kind.
import { Environment } from "@marcbachmann/cel-js";
import type { KubeObject } from "../kube.js";
import { isRecord } from "../object.js";
import type { StatusResult } from "./kstatus.js";

export interface HealthCheckExpr {
  apiVersion: string;
  kind?: string;
  current: string;
  inProgress?: string;
  failed?: string;
}

type Program = (vars: Record<string, unknown>) => unknown;

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
  const seen = new Set<string>();
  return exprs.map((e, i) => {
    const group = groupOfApiVersion(e.apiVersion);
    // Named as Go's GroupKind.String() names it in Flux's message: "Kind.group", ".group" for a whole group.
    const groupKind = `${e.kind ?? ""}${group ? `.${group}` : ""}`;
    if (seen.has(groupKind)) {
      throw new CelExprError(`duplicate custom health check for GroupKind ${groupKind} at healthchecks[${i}]`);
    }
    seen.add(groupKind);
    const what = e.kind ?? e.apiVersion;
    const compiled: CompiledExprs = { group, current: compile(env, e.current, `${what} current`) };
    if (e.kind) compiled.kind = e.kind;
    if (e.inProgress) compiled.inProgress = compile(env, e.inProgress, `${what} inProgress`);
    if (e.failed) compiled.failed = compile(env, e.failed, `${what} failed`);
    return compiled;
  });
}

function groupOfApiVersion(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
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

/** The entry naming the object's group and kind, else the group-wide entry of its group. */
export function findExprs(all: readonly CompiledExprs[], obj: KubeObject): CompiledExprs | undefined {
  const group = groupOfApiVersion(obj.apiVersion);
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
