// A Summary as the server sends one (shared/types.ts), its fields empty but for kind, name and state: for the unit
// tests of the snapshot and the app, which set what they look at.
import type { State, Summary, SummaryKind } from "../shared/types.js";

export function summary(kind: SummaryKind, namespace: string, name: string, state: State): Summary {
  return {
    key: `${kind}/${namespace}/${name}`,
    kind,
    namespace,
    name,
    state,
    ready: state === "ready" ? "True" : "False",
    reason: "",
    message: "",
    since: "",
    suspended: false,
    revision: "",
    attemptedRevision: "",
    path: "",
  };
}
