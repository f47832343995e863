import { describe, expect, it } from "vitest";
import { isGone } from "./errors.js";
import { decodeWatchLine } from "./watch-events.js";

describe("decodeWatchLine", () => {
  it("Given an event line, should return its type and object", () => {
    const obj = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", resourceVersion: "5" } };
    expect(decodeWatchLine(JSON.stringify({ type: "MODIFIED", object: obj }), "watch")).toEqual({
      kind: "event",
      type: "MODIFIED",
      object: obj,
    });
  });

  it("Given an ERROR event carrying 410, should decode it as a Gone ApiError", () => {
    const line = JSON.stringify({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired" } });
    const d = decodeWatchLine(line, "watch ConfigMap");
    expect(d.kind === "error" && isGone(d.error)).toBe(true);
  });

  it.each(["not json", '{"type":"WHAT","object":{"metadata":{}}}', '{"type":"ADDED"}'])(
    "Given a malformed line %s, should report it as invalid",
    (line) => {
      expect(decodeWatchLine(line, "watch").kind).toBe("invalid");
    },
  );
});
