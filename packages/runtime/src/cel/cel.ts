// One CEL environment for every controller (Flux's runtime/cel): health checks, dependency readiness, Receiver
// filters and commit status ids are written by tenants and evaluated by the controller, so every expression is
// bounded before it runs:
// - size: the parser refuses more than `celLimits` AST nodes, depth, literal sizes and call arguments;
// - cost: CEL has no loops besides the comprehension macros (all, exists, exists_one, map, filter), so an
//   expression's evaluation cost is at most its AST size × (the largest list it iterates) ^ (comprehensions nested in
//   one another's bodies). Nesting is limited to `maxComprehensionNesting`, which keeps that polynomial small.
//   (Capstan: cel-go bounds cost with a per-call budget; cel-js has none, and JavaScript cannot interrupt a
//   synchronous evaluation, so the bound is static.)
// - regular expressions: cel-go's RE2 runs in linear time, JavaScript's backtracking RegExp does not. `matches` takes
//   a literal pattern only (a pattern from data, e.g. a webhook body, could be chosen to backtrack for ever), of at
//   most `maxPatternLength` characters, without backreferences and without a repeated group that itself repeats
//   (`(a+)+`), the shapes that make backtracking exponential.
import { createRequire } from "node:module";
import type { Environment, Limits } from "@marcbachmann/cel-js";
import { unsafeRegex } from "./regex.js";

/** Parse-time limits of every expression (Flux sets none; a real expression needs a few dozen nodes). */
export const celLimits: Limits = {
  maxAstNodes: 2_000,
  maxDepth: 64,
  maxListElements: 100,
  maxMapEntries: 100,
  maxCallArguments: 32,
};

/** How deep comprehensions may nest in one another's bodies (`a.all(x, x.b.exists(y, ...))` is 2). */
export const maxComprehensionNesting = 2;

/** CEL types a variable may be declared with. */
export type CelType = "map" | "list" | "string" | "bool" | "int" | "double" | "dyn";

export interface CelOptions {
  /**
   * Declared variables: the expression is type-checked against them and may use no others. Undefined: any variable
   * name is allowed and dynamically typed (health checks see an object's top-level fields), and no check is made.
   */
  variables?: Readonly<Record<string, CelType>>;
}

export type CelStage = "parse" | "check" | "evaluate";

/** A CEL failure; `message` is the library's first line (it appends a source excerpt on further ones). */
export class CelError extends Error {
  readonly stage: CelStage;
  constructor(stage: CelStage, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CelError";
    this.stage = stage;
  }
}

export interface CelProgram {
  readonly source: string;
  /** The checked result type ("bool", "string", ...; "dyn" when only evaluation can tell or nothing was checked). */
  readonly type: string;
  /** Evaluates with the given variables (convert JSON with toCel first); throws CelError at stage "evaluate". */
  evaluate(variables: Record<string, unknown>): unknown;
}

function firstLine(err: unknown): string {
  return String((err as Error | undefined)?.message ?? err).split("\n")[0] ?? "";
}

// The CEL library loads on the first compile: a controller whose objects use no expression (source-controller always,
// kustomize-controller without custom health checks) does not pay its 1 MiB of resident memory. require() of an ES
// module (Node 22.12+) keeps compileCel synchronous.
const requireCel = createRequire(import.meta.url);
let celLibrary: typeof import("@marcbachmann/cel-js") | undefined;

function environment(options: CelOptions): Environment {
  celLibrary ??= requireCel("@marcbachmann/cel-js") as typeof import("@marcbachmann/cel-js");
  const env = new celLibrary.Environment({
    unlistedVariablesAreDyn: options.variables === undefined,
    homogeneousAggregateLiterals: false,
    enableOptionalTypes: true,
    limits: celLimits,
  });
  for (const [name, type] of Object.entries(options.variables ?? {})) env.registerVariable(name, type);
  return env;
}

/** Parses (and, with declared variables, type-checks) an expression; throws CelError at stage "parse" or "check". */
export function compileCel(source: string, options: CelOptions = {}): CelProgram {
  let program: ReturnType<Environment["parse"]>;
  try {
    program = environment(options).parse(source);
  } catch (cause) {
    throw new CelError("parse", firstLine(cause), { cause });
  }
  const nesting = comprehensionNesting(program.ast);
  if (nesting > maxComprehensionNesting) {
    throw new CelError(
      "parse",
      `comprehensions nested ${nesting} deep, more than the ${maxComprehensionNesting} allowed (Capstan bounds evaluation cost)`,
    );
  }
  const unsafe = unsafePattern(program.ast);
  if (unsafe) throw new CelError("parse", unsafe);
  let type = "dyn";
  if (options.variables !== undefined) {
    const checked = program.check();
    if (!checked.valid) {
      throw new CelError("check", checked.error ? firstLine(checked.error) : "type check failed", {
        cause: checked.error,
      });
    }
    type = String(checked.type);
  }
  return {
    source,
    type,
    evaluate: (variables) => {
      try {
        return program(variables);
      } catch (cause) {
        throw new CelError("evaluate", firstLine(cause), { cause });
      }
    },
  };
}

/** JSON values as CEL sees them: integers become CEL ints (bigint), so `status.replicas == 1` compares int with int. */
export function toCel(v: unknown): unknown {
  if (typeof v === "number") return Number.isInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map(toCel);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toCel(x)]));
  return v;
}

const comprehensions = new Set(["all", "exists", "exists_one", "map", "filter"]);

interface AstNode {
  op: string;
  args: unknown;
}

function isNode(v: unknown): v is AstNode {
  return typeof v === "object" && v !== null && typeof (v as AstNode).op === "string" && "args" in v;
}

/** The deepest nesting of comprehensions inside one another's bodies (a receiver that is one only adds cost). */
export function comprehensionNesting(node: unknown): number {
  if (Array.isArray(node)) return Math.max(0, ...node.map(comprehensionNesting));
  if (!isNode(node)) return 0;
  const args = node.args;
  if (node.op === "rcall" && Array.isArray(args) && comprehensions.has(args[0] as string)) {
    return Math.max(comprehensionNesting(args[1]), 1 + comprehensionNesting(args[2]));
  }
  return comprehensionNesting(args);
}

/** Why a `matches` call of the expression could backtrack without bound, or undefined when none can. */
export function unsafePattern(node: unknown): string | undefined {
  if (Array.isArray(node)) {
    for (const n of node) {
      const why = unsafePattern(n);
      if (why) return why;
    }
    return undefined;
  }
  if (!isNode(node)) return undefined;
  const args = node.args;
  if (Array.isArray(args) && args[0] === "matches" && (node.op === "rcall" || node.op === "call")) {
    const pattern =
      node.op === "rcall" ? (args[2] as unknown[] | undefined)?.[0] : (args[1] as unknown[] | undefined)?.[1];
    const why =
      isNode(pattern) && pattern.op === "value" && typeof pattern.args === "string"
        ? unsafeRegex(pattern.args)
        : "matches() takes a literal pattern (Capstan: a pattern from data could backtrack without bound)";
    if (why) return why;
  }
  return unsafePattern(args);
}
