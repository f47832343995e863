import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { countDocuments } from "./count.js";

let dir = "";
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("countDocuments", () => {
  it("Given YAML and one-line JSON documents in multi-document files, should count both, not kustomization.yaml", async () => {
    dir = await mkdtemp(join(tmpdir(), "count-"));
    const json = Array.from({ length: 3 }, (_, i) =>
      JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `c${i}` } }),
    );
    await writeFile(join(dir, "cms.yaml"), json.join("\n---\n"));
    await writeFile(join(dir, "sa.yaml"), "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n");
    await writeFile(join(dir, "kustomization.yaml"), "kind: Kustomization\nresources: [cms.yaml, sa.yaml]\n");
    expect(await countDocuments(dir)).toEqual({ documents: 4, atLeast: false });
  });
});
