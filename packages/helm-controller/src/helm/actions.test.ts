import { describe, expect, it } from "vitest";
import { installArgs, testArgs, uninstallArgs, upgradeArgs } from "./actions.js";
import { cleanMessage } from "./cli.js";

const o = { timeoutMs: 30_000, maxHistory: 5 };

describe("Given a HelmRelease's action specs", () => {
  it("should skip helm's client-side OpenAPI check where the cluster validates fields itself, and only there", () => {
    const served = { ...o, serverValidates: true };
    expect(installArgs("r", "c.tgz", "v.yaml", {}, served)).toContain("--disable-openapi-validation");
    expect(upgradeArgs("r", "c.tgz", "v.yaml", {}, served)).toContain("--disable-openapi-validation");
    expect(installArgs("r", "c.tgz", "v.yaml", {}, o)).not.toContain("--disable-openapi-validation");
    expect(upgradeArgs("r", "c.tgz", "v.yaml", {}, o)).not.toContain("--disable-openapi-validation");
    expect(installArgs("r", "c.tgz", "v.yaml", { disableOpenAPIValidation: true }, o)).toContain(
      "--disable-openapi-validation",
    );
  });

  it("should install with Flux's defaults: wait (watcher, Jobs too), CRDs created, ownership taken", () => {
    expect(installArgs("r", "c.tgz", "v.yaml", {}, o)).toEqual([
      "install",
      "r",
      "c.tgz",
      "--values",
      "v.yaml",
      "--timeout",
      "30000ms",
      "--wait=watcher",
      "--wait-for-jobs",
      "--take-ownership",
    ]);
    expect(
      installArgs(
        "r",
        "c.tgz",
        "v.yaml",
        { crds: "Skip", disableWait: true, createNamespace: true, disableTakeOwnership: true },
        o,
      ),
    ).toEqual([
      "install",
      "r",
      "c.tgz",
      "--values",
      "v.yaml",
      "--timeout",
      "30000ms",
      "--wait=hookOnly",
      "--create-namespace",
      "--skip-crds",
    ]);
  });

  it("should upgrade resetting values to the chart's, keeping maxHistory revisions", () => {
    expect(upgradeArgs("r", "c.tgz", "v.yaml", { force: true, cleanupOnFail: true }, o)).toEqual([
      "upgrade",
      "r",
      "c.tgz",
      "--values",
      "v.yaml",
      "--reset-values",
      "--history-max",
      "5",
      "--timeout",
      "30000ms",
      "--wait=watcher",
      "--wait-for-jobs",
      "--force-replace",
      "--cleanup-on-fail",
      "--take-ownership",
    ]);
    expect(upgradeArgs("r", "c", "v", { preserveValues: true }, o)).toContain("--reuse-values");
  });

  it("should uninstall with the deletion propagation and history asked for", () => {
    expect(uninstallArgs("r", { keepHistory: true, deletionPropagation: "foreground" }, o)).toEqual([
      "uninstall",
      "r",
      "--ignore-not-found",
      "--cascade",
      "foreground",
      "--timeout",
      "30000ms",
      "--wait=watcher",
      "--keep-history",
    ]);
  });

  it("should pass test filters in helm's syntax", () => {
    expect(testArgs("r", { filters: [{ name: "a" }, { name: "b", exclude: true }] }, o)).toEqual([
      "test",
      "r",
      "--timeout",
      "30000ms",
      "--filter",
      "name=a,!name=b",
    ]);
  });
});

describe("Given helm's stderr", () => {
  it("should hide the scratch directory and every secret value, longest first", () => {
    expect(cleanMessage("Error: /tmp/w/x failed: pass=abcdef and abc\n\n", "/tmp/w", ["abc", "abcdef"])).toBe(
      "Error: ./x failed: pass=*** and ***",
    );
  });
});
