import { describe, expect, it } from "vitest";
import { ChartVersionMemo } from "./oci-source.js";

describe("Given the chart versions remembered by package digest", () => {
  it("should return what was set, and drop the least recently used beyond its bound", () => {
    const memo = new ChartVersionMemo(2);
    memo.set("sha256:a", "1.0.0");
    memo.set("sha256:b", "2.0.0");
    expect(memo.get("sha256:a")).toBe("1.0.0"); // a is now the most recent
    memo.set("sha256:c", "3.0.0");
    expect(memo.size).toBe(2);
    expect(memo.get("sha256:b")).toBeUndefined();
    expect(memo.get("sha256:a")).toBe("1.0.0");
    expect(memo.get("sha256:c")).toBe("3.0.0");
  });
});
