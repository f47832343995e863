import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { clusterPackageDir, ensureBinaries } from "./binaries.js";

const run = promisify(execFile);
const fixtures = join(clusterPackageDir, "test", "fixtures");

describe("Given the pinned kustomize and helm binaries", () => {
  it("should build a kustomize overlay with the base's Deployment renamed, rescaled and retagged", async () => {
    const { bin } = await ensureBinaries();
    const { stdout } = await run(bin.kustomize, ["build", join(fixtures, "kustomize", "overlay")]);
    const docs = parseAllDocuments(stdout).map((d) => d.toJSON());
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({
      kind: "Deployment",
      metadata: { name: "prod-web", namespace: "prod" },
      spec: { replicas: 3, template: { spec: { containers: [{ image: "nginx:1.28" }] } } },
    });
  });

  it("should render a chart with helm template", async () => {
    const { bin } = await ensureBinaries();
    const { stdout } = await run(bin.helm, ["template", "demo", join(fixtures, "chart"), "--set", "greeting=hi"]);
    const docs = parseAllDocuments(stdout)
      .map((d) => d.toJSON())
      .filter(Boolean);
    expect(docs).toEqual([
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "demo-greeting" }, data: { greeting: "hi" } },
    ]);
  });

  it("should report the pinned versions", async () => {
    const { bin } = await ensureBinaries();
    expect((await run(bin.kustomize, ["version"])).stdout).toContain("v5.8.2");
    expect((await run(bin.helm, ["version", "--short"])).stdout).toContain("v4.3.1");
    expect((await run(bin.kubectl, ["version", "--client"])).stdout).toContain("v1.37.2");
  });
});
