// Test helper: records what an informer's handlers heard, per object name, to assert "exactly once" behaviour.
import type { InformerHandlers, KubeObject } from "../contracts.js";

export type Heard = "add" | "update" | "delete";

export function recordHandlers(): {
  handlers: InformerHandlers;
  heard: Map<string, Heard[]>;
  of(name: string): Heard[];
} {
  const heard = new Map<string, Heard[]>();
  const push = (obj: KubeObject, what: Heard) => {
    const list = heard.get(obj.metadata.name) ?? [];
    list.push(what);
    heard.set(obj.metadata.name, list);
  };
  return {
    heard,
    of: (name) => heard.get(name) ?? [],
    handlers: {
      onAdd: (o) => push(o, "add"),
      onUpdate: (_old, o) => push(o, "update"),
      onDelete: (o) => push(o, "delete"),
    },
  };
}
