import { describe, expect, it } from "vitest";
import { expand, resolveEnv } from "./charts.js";
import { localOverrides } from "./controllers.js";

describe("Given container args and env from a rendered chart", () => {
  it.each([
    ["source-controller.$(RUNTIME_NAMESPACE).svc", { RUNTIME_NAMESPACE: "flux" }, "source-controller.flux.svc"],
    ["$$(RUNTIME_NAMESPACE)", { RUNTIME_NAMESPACE: "flux" }, "$(RUNTIME_NAMESPACE)"],
    ["$(UNKNOWN)", {}, "$(UNKNOWN)"],
  ])("should expand %s as the kubelet does", (input, vars, want) => {
    expect(expand(input, vars)).toBe(want);
  });

  it("should resolve fieldRef env for the pod's namespace and name", () => {
    const env = resolveEnv(
      [
        { name: "RUNTIME_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
        { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        { name: "GREETING", value: "in $(RUNTIME_NAMESPACE)" },
      ],
      "capstan-system",
      "pod-1",
    );
    expect(env).toEqual({ RUNTIME_NAMESPACE: "capstan-system", POD_NAME: "pod-1", GREETING: "in capstan-system" });
  });

  it("should move only addresses and storage to the local machine and keep every other flag", async () => {
    const { args, addresses } = await localOverrides(
      [
        "--health-addr=:9440",
        "--storage-path=/data",
        "--storage-addr=:9090",
        "--storage-adv-addr=sc.ns.svc.",
        "--concurrent=4",
      ],
      "/tmp/x",
    );
    expect(addresses["health-addr"]).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(args).toEqual([
      `--health-addr=${addresses["health-addr"]}`,
      "--storage-path=/tmp/x/storage",
      `--storage-addr=${addresses["storage-addr"]}`,
      `--storage-adv-addr=${addresses["storage-addr"]}`,
      "--concurrent=4",
    ]);
  });
});
