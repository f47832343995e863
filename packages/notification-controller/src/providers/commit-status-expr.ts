// spec.commitStatusExpr, as Flux evaluates it: a CEL expression over `event` (the notification as providers receive it,
// metadata prefix-stripped and merged with the Alert's), `provider` and `alert` (the objects), giving the commit status
// id that replaces the default `<kind>/<name>/<provider uid prefix>`: GitHub's and Gitea's context, GitLab's name, and
// the Bitbucket key (hashed, as the default id is). It is compiled when the notifier is built, so an expression that
// does not parse, or whose type cannot be a string, makes the Provider invalid (InvalidConfig); one that fails at
// evaluation (e.g. a metadata key the event lacks) fails that notification only. It is compiled in the runtime's one
// CEL environment: (Capstan) a tenant writes the expression and the controller evaluates it for everyone's events, so
// its size is bounded at parse time (runtime's celLimits; a commit status id needs a few dozen nodes; Flux sets none).
import { type CelProgram, compileCel, toCel } from "@capstan/runtime";
import { encodeEvent, type FluxEvent } from "../events/event.js";
import { DeliveryError } from "./http.js";
import { ProviderConfigError } from "./settings.js";

/** The Kubernetes objects an expression sees, besides the event; set per Alert by whoever binds the notifier. */
export interface CommitStatusObjects {
  alert?: object;
  provider?: object;
}

export type CommitStatusExpression = (event: FluxEvent, objects: CommitStatusObjects) => string;

/** Throws ProviderConfigError for an expression that does not compile or cannot give a string. */
export function compileCommitStatusExpr(expr: string): CommitStatusExpression {
  let program: CelProgram;
  try {
    // CelError messages are the library's first line (an Event or a log line needs no source excerpt).
    program = compileCel(expr, { variables: { event: "map", provider: "map", alert: "map" } });
  } catch (cause) {
    throw new ProviderConfigError(`invalid spec.commitStatusExpr: ${(cause as Error).message}`, { cause });
  }
  // `dyn` (e.g. `event.metadata.env`) can only be known at evaluation.
  if (program.type !== "string" && program.type !== "dyn") {
    throw new ProviderConfigError(
      `invalid spec.commitStatusExpr: output type mismatch: expected string, got ${program.type}`,
    );
  }
  return (event, objects) => {
    let result: unknown;
    try {
      result = program.evaluate({
        event: eventVariable(event),
        alert: objectVariable(objects.alert),
        provider: objectVariable(objects.provider),
      });
    } catch (cause) {
      throw new DeliveryError(
        `failed to evaluate spec.commitStatusExpr: ${(cause as Error).message}`,
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
