// The demo's registry answers the push the demo prints, with the real oras, and serves what was pushed.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { ensureBinaries } from "@capstan/cluster";
import { orasPush } from "@capstan/gitserver";
import { afterAll, describe, expect, it } from "vitest";
import { startDemoRegistry } from "./registry.js";
import { registryLines } from "./registry-lines.js";

describe("Given the demo's registry", () => {
  const started = startDemoRegistry();
  afterAll(async () => (await started).close());

  it("should take an oras push over plain HTTP without login and serve the manifest back", async () => {
    const registry = await started;
    expect(registryLines(registry.host)).toContain(`oras push --plain-http ${registry.host}/manifests/web:1.0.0`);
    const { path, bin } = await ensureBinaries();
    const digest = await orasPush({
      binPath: path,
      registry,
      reference: "manifests/web:1.0.0",
      artifactType: "application/vnd.cncf.flux.config.v1+json",
      files: [
        { name: "web.tar.gz", content: Buffer.from("x"), mediaType: "application/vnd.cncf.flux.content.v1.tar+gzip" },
      ],
    });
    const { stdout } = await promisify(execFile)(
      bin.oras,
      ["resolve", "--plain-http", `${registry.host}/manifests/web:1.0.0`],
      { env: { PATH: "/usr/bin:/bin", HOME: "/tmp", DOCKER_CONFIG: "/tmp/capstan-demo-registry-test" } },
    );
    expect(stdout.trim()).toBe(digest);
  });
});
