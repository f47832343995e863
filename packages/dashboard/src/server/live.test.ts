import { describe, expect, it } from "vitest";
import { redactObject } from "./live.js";

describe("redactObject", () => {
  it("should keep a Secret's keys and hide its values, and drop managedFields and last-applied", () => {
    const out = redactObject({
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "s",
        managedFields: [{ manager: "x" }],
        annotations: {
          "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"password":"aHVudGVyMg=="}}',
          a: "b",
        },
      },
      data: { password: "aHVudGVyMg==", user: "YWRtaW4=" },
      stringData: { token: "plain" },
    });
    const text = JSON.stringify(out);
    expect(text).not.toContain("aHVudGVyMg==");
    expect(text).not.toContain("plain");
    expect(text).not.toContain("managedFields");
    expect(out.data).toEqual({ password: "(hidden)", user: "(hidden)" });
    expect((out.metadata as { annotations: Record<string, string> }).annotations.a).toBe("b");
  });

  it("should leave a ConfigMap's data as it is", () => {
    const out = redactObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { k: "v" } });
    expect(out.data).toEqual({ k: "v" });
  });
});
