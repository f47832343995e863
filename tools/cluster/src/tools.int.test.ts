import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
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

describe("Given the pinned sops and age", () => {
  it("should encrypt with a .sops.yaml creation rule for an age-keygen key and decrypt with that key only", async () => {
    const { bin } = await ensureBinaries();
    const dir = await mkdtemp(join(tmpdir(), "sops-tools-"));
    try {
      const env = { PATH: "/usr/bin:/bin", HOME: dir };
      await run(bin["age-keygen"], ["-o", join(dir, "prod.agekey")], { env });
      const identity = await readFile(join(dir, "prod.agekey"), "utf8");
      const recipient = /public key: (age1[a-z0-9]+)/.exec(identity)?.[1];
      expect(recipient).toBeDefined();
      await writeFile(
        join(dir, ".sops.yaml"),
        `creation_rules:\n  - path_regex: .*\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: ${recipient}\n`,
      );
      const manifest = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2\n";
      await writeFile(join(dir, "db.yaml"), manifest);
      await run(bin.sops, ["--encrypt", "--in-place", "db.yaml"], { cwd: dir, env });
      const encrypted = await readFile(join(dir, "db.yaml"), "utf8");
      expect(encrypted).not.toContain("hunter2");
      expect(encrypted).toContain("name: db");
      const decrypt = (key: string) =>
        run(bin.sops, ["--decrypt", "db.yaml"], { cwd: dir, env: { ...env, SOPS_AGE_KEY: key } });
      expect((await decrypt(identity)).stdout).toContain("password: hunter2");
      const other = (await run(bin["age-keygen"], [], { env })).stdout;
      await expect(decrypt(other)).rejects.toThrow();
      expect((await run(bin.sops, ["--version", "--disable-version-check"], { env })).stdout).toContain("3.13.2");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
