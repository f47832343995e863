// spec.include: copies (part of) another GitRepository's artifact into this checkout at toPath, as Flux does, by
// extracting the stored tarball. Paths are confined to their roots like Go's securejoin: ".." cannot climb above
// the root, it is clamped to it.

import { cp, mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join, normalize, relative, sep } from "node:path";
import { GitRepositoryConditions, GitRepositoryReasons } from "@capstan/api";
import { SourceError, StorageError } from "../errors.js";
import type { Storage } from "./storage.js";

/** Joins a user-given relative path under root; leading ".." segments are clamped at the root. */
export function confinedJoin(root: string, userPath: string): string {
  const clean = normalize(`/${userPath}`).slice(1);
  const abs = join(root, clean);
  const rel = relative(root, abs);
  if (rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new SourceError(
      GitRepositoryConditions.IncludeUnavailable,
      GitRepositoryReasons.InvalidPath,
      `path '${userPath}' leaves its root`,
      {
        stalling: true,
      },
    );
  }
  return abs;
}

/** Extracts a stored artifact into `dir` (created if needed). */
export async function extractArtifact(storage: Storage, artifactPath: string, dir: string): Promise<void> {
  const file = storage.localPath(artifactPath);
  await mkdir(dir, { recursive: true });
  try {
    // tar loads on the first include only (spec.include is rare; lazy.ts).
    const { x: extract } = await import("tar");
    await extract({ file, cwd: dir, strict: true, preservePaths: false, noChmod: false });
  } catch (err) {
    throw new StorageError(GitRepositoryReasons.ArchiveOperationFailed, `extract artifact '${artifactPath}'`, {
      cause: err,
    });
  }
}

/**
 * Copies `fromPath` of the artifact into `workDir/toPath`, replacing what was there. The included content wins over
 * files of the same name in the checkout, as in Flux.
 */
export async function copyArtifactToPath(
  storage: Storage,
  artifactPath: string,
  fromPath: string,
  workDir: string,
  toPath: string,
): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), "capstan-include-"));
  try {
    await extractArtifact(storage, artifactPath, scratch);
    const source = confinedJoin(scratch, fromPath);
    const dest = confinedJoin(workDir, toPath);
    const st = await stat(source).catch(() => undefined);
    if (!st) {
      throw new SourceError(
        GitRepositoryConditions.IncludeUnavailable,
        GitRepositoryReasons.CopyOperationFailed,
        `path '${fromPath}' does not exist in the included artifact`,
      );
    }
    await rm(dest, { recursive: true, force: true });
    await mkdir(join(dest, ".."), { recursive: true });
    await cp(source, dest, { recursive: true, verbatimSymlinks: true });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
