// Decoding one line of a watch stream: {"type": "...", "object": {...}}.
import type { KubeObject, WatchEventType } from "../contracts.js";
import type { ApiError } from "./errors.js";
import { statusObjectToError } from "./errors.js";

export type DecodedWatchLine =
  | { kind: "event"; type: WatchEventType; object: KubeObject }
  | { kind: "error"; error: ApiError }
  | { kind: "invalid"; detail: string };

const eventTypes = new Set<string>(["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]);

export function decodeWatchLine(line: string, action: string): DecodedWatchLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { kind: "invalid", detail: "a watch line is not JSON" };
  }
  const { type, object } = (parsed ?? {}) as { type?: unknown; object?: unknown };
  if (type === "ERROR") return { kind: "error", error: statusObjectToError(action, object) };
  if (typeof type !== "string" || !eventTypes.has(type)) {
    return { kind: "invalid", detail: `unknown watch event type ${JSON.stringify(type)}` };
  }
  if (!object || typeof object !== "object" || !("metadata" in object)) {
    return { kind: "invalid", detail: `watch event ${type} without an object` };
  }
  return { kind: "event", type: type as WatchEventType, object: object as KubeObject };
}
