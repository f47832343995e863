// Receiver CEL filters, as Flux evaluates them: spec.resourceFilter and spec.resources[].filter are boolean CEL
// expressions over `res` (the selected object's apiVersion, kind and metadata) and `req` (the JSON request body, or an
// empty map when the request is not JSON). An object is annotated only when every expression set for it returns true.
// The Receiver reconciler compiles them up front (an invalid one stalls the Receiver with InvalidCELExpression); the
// webhook handler compiles them again per request, parses the body once, and hands the backend one predicate per entry.
// Expressions are compiled in the runtime's one CEL environment, bounded at parse time (runtime's celLimits).
import { CelError, type CelProgram, compileCel, toCel } from "@capstan/runtime";

/** What an expression sees of a selected object, as Flux's PartialObjectMetadata. */
export interface FilterObject {
  apiVersion: string;
  kind: string;
  metadata: object;
}

/** Decides whether one selected object is annotated; throws when the expression fails or is not boolean. */
export type ResourcePredicate = (res: FilterObject) => boolean;

export class FilterError extends Error {
  override name = "FilterError";
}

/** The library's whole message (with its source excerpt), as Flux's messages quote cel-go's. */
function detail(err: unknown): string {
  const cause = err instanceof CelError ? err.cause : err;
  return cause instanceof Error ? cause.message : String((err as Error)?.message ?? err);
}

/** Parses and type-checks an expression: it must be valid CEL over res and req, and of type bool. */
export function compileFilter(expr: string): CelProgram {
  let program: CelProgram;
  try {
    program = compileCel(expr, { variables: { res: "map", req: "map" } });
  } catch (cause) {
    throw new FilterError(`failed to parse the CEL expression '${expr}': ${detail(cause)}`, { cause });
  }
  if (program.type !== "bool") {
    throw new FilterError(`CEL expression output type mismatch: expected bool, got ${program.type}`);
  }
  return program;
}

interface FilteredSpec {
  resourceFilter?: string;
  resources: { kind: string; name: string; filter?: string }[];
}

/** Throws, with Flux's message, for the first expression of the Receiver that does not compile. */
export function validateFilters(spec: FilteredSpec): void {
  if (spec.resourceFilter) {
    try {
      compileFilter(spec.resourceFilter);
    } catch (err) {
      throw new FilterError(`invalid resourceFilter expression: ${(err as Error).message}`, { cause: err });
    }
  }
  spec.resources.forEach((r, i) => {
    if (!r.filter) return;
    try {
      compileFilter(r.filter);
    } catch (err) {
      const which = `resources[${i}] (kind=${JSON.stringify(r.kind)}, name=${JSON.stringify(r.name)})`;
      throw new FilterError(`invalid filter expression for ${which}: ${(err as Error).message}`, { cause: err });
    }
  });
}

function isJson(contentType: string | undefined): boolean {
  return (contentType ?? "").split(",").some((t) => t.split(";")[0]?.trim().toLowerCase() === "application/json");
}

/**
 * The request body as `req`: parsed when the request says it is JSON, an empty map otherwise. The error never quotes
 * the body (it may be large, and it is the sender's data).
 */
export function requestVariable(body: Buffer, contentType: string | undefined): Record<string, unknown> {
  if (!isJson(contentType)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw new FilterError("failed to parse request body as JSON");
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new FilterError("failed to parse request body as JSON: not an object");
  }
  return toCel(parsed) as Record<string, unknown>;
}

function predicate(expr: string, req: Record<string, unknown>): ResourcePredicate {
  const program = compileFilter(expr);
  return (res) => {
    let result: unknown;
    try {
      result = program.evaluate({ res: toCel(res), req });
    } catch (cause) {
      throw new FilterError(`evaluating the CEL expression '${expr}': ${detail(cause)}`, { cause });
    }
    if (typeof result !== "boolean") throw new FilterError(`the CEL expression '${expr}' did not return a bool`);
    return result;
  };
}

/**
 * One predicate per entry of spec.resources (undefined: no expression applies, every selected object is annotated).
 * The body is parsed only when some expression is set.
 */
export function resourcePredicates(
  spec: FilteredSpec,
  body: Buffer,
  contentType: string | undefined,
): (ResourcePredicate | undefined)[] {
  if (!spec.resourceFilter && !spec.resources.some((r) => r.filter)) return spec.resources.map(() => undefined);
  const req = requestVariable(body, contentType);
  const top = spec.resourceFilter ? predicate(spec.resourceFilter, req) : undefined;
  return spec.resources.map((r) => {
    const own = r.filter ? predicate(r.filter, req) : undefined;
    if (!top) return own;
    if (!own) return top;
    return (res) => top(res) && own(res);
  });
}
