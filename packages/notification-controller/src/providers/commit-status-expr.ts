// spec.commitStatusExpr, as Flux evaluates it: a CEL expression over `event` (the notification as providers receive it,
// metadata prefix-stripped and merged with the Alert's), `provider` and `alert` (the objects), giving the commit status
// id that replaces the default `<kind>/<name>/<provider uid prefix>`: GitHub's and Gitea's context, GitLab's name, and
// the Bitbucket key (hashed, as the default id is). It is compiled when the notifier is built, so an expression that
// does not parse, or whose type cannot be a string, makes the Provider invalid (InvalidConfig); one that fails at
// evaluation (e.g. a metadata key the event lacks) fails that notification only.
import { Environment } from "@marcbachmann/cel-js";
import { encodeEvent, type FluxEvent } from "../events/event.js";
import { toCel } from "../receiver/filter.js";
import { DeliveryError } from "./http.js";
import { ProviderConfigError } from "./settings.js";

/** The Kubernetes objects an expression sees, besides the event; set per Alert by whoever binds the notifier. */
export interface CommitStatusObjects {
  alert?: object;
  provider?: object;
}

export type CommitStatusExpression = (event: FluxEvent, objects: CommitStatusObjects) => string;

/** cel-js appends a source excerpt on further lines; an Event or a log line needs only the first. */
function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split("\n")[0] ?? "";
}

export const commitStatusExprLimits = {
  maxAstNodes: 2_000,
  maxDepth: 64,
  maxListElements: 100,
  maxMapEntries: 100,
  maxCallArguments: 32,
};

function environment(): Environment {
  return new Environment({
    enableOptionalTypes: true,
    homogeneousAggregateLiterals: false,
    // Capstan: a tenant writes the expression and the controller evaluates it for everyone's events, so its size is
    // bounded at parse time (a commit status id needs a few dozen nodes; Flux sets no limit).
    limits: commitStatusExprLimits,
  })
    .registerVariable("event", "map")
    .registerVariable("provider", "map")
    .registerVariable("alert", "map");
}

/** Throws ProviderConfigError for an expression that does not compile or cannot give a string. */
export function compileCommitStatusExpr(expr: string): CommitStatusExpression {
  let program: ReturnType<Environment["parse"]>;
  try {
    program = environment().parse(expr);
  } catch (cause) {
    throw new ProviderConfigError(`invalid spec.commitStatusExpr: ${firstLine(cause)}`, { cause });
  }
  const checked = program.check();
  if (!checked.valid) {
    const detail = checked.error ? firstLine(checked.error) : "type check failed";
    throw new ProviderConfigError(`invalid spec.commitStatusExpr: ${detail}`, { cause: checked.error });
  }
  // `dyn` (e.g. `event.metadata.env`) can only be known at evaluation.
  if (checked.type !== "string" && checked.type !== "dyn") {
    throw new ProviderConfigError(
      `invalid spec.commitStatusExpr: output type mismatch: expected string, got ${checked.type}`,
    );
  }
  return (event, objects) => {
    let result: unknown;
    try {
      result = program({
        event: eventVariable(event),
        alert: objectVariable(objects.alert),
        provider: objectVariable(objects.provider),
      });
    } catch (cause) {
      throw new DeliveryError(
        `failed to evaluate spec.commitStatusExpr: ${firstLine(cause)}`,
        false,
        undefined,
        undefined,
        { cause },
      );
    }
    if (typeof result !== "string") {
      throw new DeliveryError(`spec.commitStatusExpr did not evaluate to a string (got ${typeof result})`, false);
    }
    if (result === "") throw new DeliveryError("spec.commitStatusExpr evaluated to an empty string", false);
    return result;
  };
}

/** The event as Flux marshals it (omitempty fields left out), without Capstan's notification id. */
function eventVariable(event: FluxEvent): Record<string, unknown> {
  const { id: _id, ...flux } = event;
  return JSON.parse(encodeEvent(flux)) as Record<string, unknown>;
}

/** The object as the API serves it, without managedFields (bookkeeping no expression needs). */
function objectVariable(obj: object | undefined): Record<string, unknown> {
  if (!obj) return {};
  const copy = structuredClone(obj) as { metadata?: Record<string, unknown> };
  if (copy.metadata) delete copy.metadata.managedFields;
  return toCel(copy) as Record<string, unknown>;
}
