// The artifact the OCI benchmarks pull: a directory tree as a tarball, pushed with the pinned oras in the media types
// `flux push artifact` uses.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { orasPush, type TestRegistry } from "@capstan/gitserver";

/** Pushes `entries` of `dir` (tar -C dir) as `reference`; resolves to the manifest digest. */
export async function pushFluxArtifact(
  binPath: string,
  registry: TestRegistry,
  reference: string,
  dir: string,
  entries: string[],
): Promise<string> {
  const tarball = `${dir}.artifact.tar.gz`;
  await promisify(execFile)("tar", ["-czf", tarball, "-C", dir, ...entries]);
  return orasPush({
    binPath,
    registry,
    reference,
    artifactType: "application/vnd.cncf.flux.config.v1+json",
    files: [
      {
        name: "content.tar.gz",
        content: await readFile(tarball),
        mediaType: "application/vnd.cncf.flux.content.v1.tar+gzip",
      },
    ],
  });
}
