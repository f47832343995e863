// What a user sees when an artifact is refused: the Kustomization reports ArtifactFailed with a message naming the
// rule or the cap (its value and the flag that raises it), and a refused revision applies nothing.
import { describe, expect, it } from "vitest";
import { readyOf } from "../testing/harness.js";
import { configMap, failedWith, fileScenario, getConfigMap, untilKustomization } from "../testing/scenario.js";
import { type RawEntry, tgz } from "./testing/tar.js";

const s = fileScenario("ks-artifact-caps", { flags: ["--artifact-max-entries=50"] });

describe("Kustomization on a refused artifact", () => {
  it("Given an artifact over the entry cap, should fail ArtifactFailed naming the cap and its flag", async () => {
    const files: RawEntry[] = Array.from({ length: 60 }, (_, i) => ({
      path: `cm${i}.yaml`,
      body: configMap(`cm${i}`, "1"),
    }));
    await s.h.publish("repo", s.h.rawArtifact(tgz(files)));
    await s.h.kustomization("flood", { targetNamespace: s.ns.name });
    const k = await untilKustomization(s.h, "flood", "artifact refused", failedWith("ArtifactFailed"));
    expect(readyOf(k)?.message).toBe(
      "failed to fetch artifact: refusing artifact archive: it holds more than 50 entries, the cap of 50; " +
        "raise it with --artifact-max-entries",
    );
    expect(await getConfigMap(s.h, "cm0")).toBeUndefined();
  });

  it("Given chained symlinks that resolve outside, should fail ArtifactFailed and apply nothing", async () => {
    const entries: RawEntry[] = [
      { path: "a/", type: "Directory" },
      { path: "a/l0", type: "SymbolicLink", linkpath: ".." },
      { path: "a/l1", type: "SymbolicLink", linkpath: "l0/.." },
      { path: "a/l2", type: "SymbolicLink", linkpath: "l1/.." },
      { path: "cm.yaml", body: configMap("chained", "1") },
      {
        path: "kustomization.yaml",
        body: "resources: [cm.yaml]\nconfigMapGenerator:\n  - name: stolen\n    files: [a/l2/etc/passwd]\n",
      },
    ];
    await s.h.publish("chain", s.h.rawArtifact(tgz(entries)));
    await s.h.kustomization("chain", {
      targetNamespace: s.ns.name,
      sourceRef: { kind: "GitRepository", name: "chain" },
    });
    const k = await untilKustomization(s.h, "chain", "artifact refused", failedWith("ArtifactFailed"));
    expect(readyOf(k)?.message).toMatch(/symlink 'a\/l1' -> 'l0\/\.\.' resolves outside the archive root/);
    expect(await getConfigMap(s.h, "chained")).toBeUndefined();
  });
});
