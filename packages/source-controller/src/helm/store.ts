// Helm artifacts are single files (an index as JSON, a chart package), not archives of a tree: written here into
// the shared Storage atomically (temporary file, then rename), with Flux's digest format, and the stable symlink
// Flux advertises in status.url (index.yaml, latest.tar.gz) pointed at the current one.
import { createHash } from "node:crypto";
import { mkdir, rename, rm, symlink, writeFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { GitRepositoryReasons } from "@capstan/api";
import { type Storage, storageError } from "../storage/storage.js";

export interface StoredFile {
  digest: string;
  size: number;
}

export async function storeFile(storage: Storage, artifactPath: string, bytes: Buffer): Promise<StoredFile> {
  const dest = storage.localPath(artifactPath);
  try {
    await mkdir(dirname(dest), { recursive: true });
  } catch (err) {
    throw storageError(GitRepositoryReasons.DirCreationFailed, "failed to create artifact directory", err);
  }
  const tmp = `${dirname(dest)}/.tmp-${basename(dest)}-${process.pid}-${Date.now()}`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw storageError(GitRepositoryReasons.ArchiveOperationFailed, "unable to save artifact to storage", err);
  }
  return { digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`, size: bytes.length };
}

/** Points `<object dir>/<name>` at the artifact; best effort, as in Flux (a failure only loses status.url). */
export async function updateSymlink(storage: Storage, artifactPath: string, name: string): Promise<string | undefined> {
  const linkPath = `${dirname(artifactPath)}/${name}`;
  try {
    const link = storage.localPath(linkPath);
    const tmp = `${link}.tmp-${process.pid}`;
    await rm(tmp, { force: true });
    await symlink(basename(artifactPath), tmp);
    await rename(tmp, link);
    return storage.url(linkPath);
  } catch {
    return undefined;
  }
}

/** Flux's units.HumanSize: decimal units, four significant digits ("2.345kB"). */
export function humanSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return `${Number(value.toPrecision(4))}${units[i]}`;
}
