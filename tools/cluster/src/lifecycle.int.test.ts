import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { startControlPlane } from "./control-plane.js";
import { isAlive } from "./processes.js";
import { loadKubeConfig, rawRequest } from "./testing.js";

describe("Given a control plane started by a test", () => {
  it("should report the real Kubernetes version, restart the apiserver, and leave no process or temp dir after stop", async () => {
    const plane = await startControlPlane({ workloads: true, controllerManagerArgs: ["--kube-api-qps=77"] });
    let pids: number[] = [];
    try {
      pids = plane.pids();
      expect(pids).toHaveLength(5);
      // The extra kube-controller-manager flag is passed after Capstan's own (bench/peer's --kcm-qps).
      const argv = pids.map((pid) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0"));
      const kcm = argv.find((a) => a[0]?.endsWith("kube-controller-manager"));
      expect(kcm).toContain("--kube-api-qps=77");
      expect(argv.filter((a) => a.includes("--kube-api-qps=77"))).toHaveLength(1);
      const kc = loadKubeConfig(plane.kubeconfig);
      const version = await rawRequest(kc, "GET", "/version");
      expect(version.json<{ gitVersion: string }>().gitVersion).toBe("v1.37.2");

      const before = plane.pids();
      await plane.restart("kube-apiserver");
      expect(plane.pids()).not.toEqual(before);
      expect((await rawRequest(kc, "GET", "/readyz")).status).toBe(200);
      pids = [...new Set([...pids, ...plane.pids()])];
    } finally {
      await plane.stop();
    }
    for (const pid of pids) expect(isAlive(pid), `pid ${pid} still alive`).toBe(false);
    expect(existsSync(plane.dir)).toBe(false);
    // Starting a second control plane (five processes) and restarting its apiserver takes far more than the default
    // test timeout on a loaded 2-core machine; this bounds a hang, it asserts nothing about speed.
  }, 240_000);
});
