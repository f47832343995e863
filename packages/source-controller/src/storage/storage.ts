// The artifact store on local disk: <root>/<kind>/<namespace>/<name>/<file>, served over HTTP by server/. File
// system failures (disk full, permissions, read-only) become StorageErrors so the reconciler reports them under the
// StorageOperationFailed condition.

import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, link, lstat, mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, normalize, relative, resolve, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import { GitRepositoryConditions, GitRepositoryReasons } from "@capstan/api";
import { SourceError, StorageError } from "../errors.js";
import { type ArchiveOptions, type ArchiveResult, archiveDirectory } from "./archive.js";

export interface StorageOptions {
  /** Directory holding all artifacts (--storage-path). */
  root: string;
  /** host[:port] written into artifact URLs (--storage-adv-addr). */
  advertisedAddress: string;
  /** Artifacts of one object kept by garbage collection, the current one included (--artifact-retention-records). */
  retentionRecords?: number;
  /** Older artifacts than this are collected even within the record count (--artifact-retention-ttl), in ms. */
  retentionTtlMs?: number;
}

export interface ObjectIdentity {
  kind: string;
  namespace: string;
  name: string;
}

const fsReasons: Record<string, string> = {
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOTDIR: "a path component is not a directory",
  EEXIST: "a file is in the way of a directory",
};

/** Wraps a file system error as a StorageError with Flux's reason and the errno's plain meaning. */
export function storageError(reason: string, what: string, err: unknown): SourceError {
  if (err instanceof SourceError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const detail = (code && fsReasons[code]) || (code ? code : "unexpected error");
  return new StorageError(reason, `${what}: ${detail}`, { cause: err });
}

export class Storage {
  readonly root: string;
  readonly advertisedAddress: string;
  readonly retentionRecords: number;
  readonly retentionTtlMs: number;

  constructor(options: StorageOptions) {
    this.root = resolve(options.root);
    this.advertisedAddress = options.advertisedAddress;
    this.retentionRecords = options.retentionRecords ?? 2;
    this.retentionTtlMs = options.retentionTtlMs ?? 60_000;
  }

  /** The directory of one object's artifacts, relative to the root. */
  objectDir(obj: ObjectIdentity): string {
    for (const part of [obj.kind, obj.namespace, obj.name]) {
      if (!part || part.includes("/") || part === "." || part === "..") {
        throw new StorageError(
          GitRepositoryReasons.InvalidPath,
          `invalid object identity '${obj.kind}/${obj.namespace}/${obj.name}'`,
        );
      }
    }
    return `${obj.kind.toLowerCase()}/${obj.namespace}/${obj.name}`;
  }

  /** The artifact path for a file name, e.g. "gitrepository/ns/name/<sha>.tar.gz". */
  artifactPath(obj: ObjectIdentity, fileName: string): string {
    if (!fileName || fileName.includes("/") || fileName.startsWith(".")) {
      throw new StorageError(GitRepositoryReasons.InvalidPath, `invalid artifact file name '${fileName}'`);
    }
    return `${this.objectDir(obj)}/${fileName}`;
  }

  /** Absolute path of an artifact path, refusing anything outside the root. */
  localPath(artifactPath: string): string {
    const abs = resolve(this.root, normalize(artifactPath));
    const rel = relative(this.root, abs);
    if (!rel || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
      throw new StorageError(
        GitRepositoryReasons.InvalidPath,
        `artifact path '${artifactPath}' is outside the storage root`,
      );
    }
    return abs;
  }

  url(artifactPath: string): string {
    return `http://${this.advertisedAddress}/${artifactPath.split("/").map(encodeURIComponent).join("/")}`;
  }

  /** Whether the artifact is a regular file in storage (a symlink or directory in its place does not count). */
  async exists(artifactPath: string): Promise<boolean> {
    try {
      return (await lstat(this.localPath(artifactPath))).isFile();
    } catch {
      return false;
    }
  }

  /**
   * Re-reads a stored artifact and compares it with the digest recorded in status, as Flux's VerifyArtifact does:
   * undefined when it matches, else why not. A corrupted or tampered file must not be served as that digest.
   */
  async verify(artifactPath: string, digest: string | undefined): Promise<string | undefined> {
    if (!digest) return "artifact has no digest";
    const match = /^(sha256|sha384|sha512):([0-9a-f]+)$/.exec(digest);
    if (!match?.[1]) return `failed to parse artifact digest '${digest}'`;
    const hash = createHash(match[1]);
    try {
      await pipeline(createReadStream(this.localPath(artifactPath)), hash);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return `failed to read artifact: ${(code && fsReasons[code]) || code || "unexpected error"}`;
    }
    return hash.digest("hex") === match[2] ? undefined : `computed digest doesn't match '${digest}'`;
  }

  /** Removes one artifact file. */
  async remove(artifactPath: string): Promise<void> {
    try {
      await rm(this.localPath(artifactPath), { force: true });
    } catch (err) {
      throw storageError(GitRepositoryConditions.StorageOperationFailed, "remove artifact", err);
    }
  }

  /** Archives a directory into the artifact path (atomically) and returns its digest and size. */
  async archive(artifactPath: string, dir: string, options: ArchiveOptions = {}): Promise<ArchiveResult> {
    const dest = this.localPath(artifactPath);
    try {
      await mkdir(resolve(dest, ".."), { recursive: true });
    } catch (err) {
      throw storageError(GitRepositoryReasons.DirCreationFailed, "create artifact directory", err);
    }
    try {
      return await archiveDirectory(dir, dest, options);
    } catch (err) {
      throw storageError(GitRepositoryReasons.ArchiveOperationFailed, "write artifact to storage", err);
    }
  }

  /**
   * (Capstan) Makes `to` the same bytes as the stored artifact `from`, atomically: a hard link (a copy where the file
   * system refuses links) under a temporary name, renamed into place. For GitRepositories that share one archive.
   */
  async link(from: string, to: string): Promise<void> {
    const src = this.localPath(from);
    const dest = this.localPath(to);
    const tmp = join(dirname(dest), `.${basename(dest)}.${process.pid}.${Date.now()}.link`);
    try {
      await mkdir(dirname(dest), { recursive: true });
      try {
        await link(src, tmp);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== "EXDEV" && code !== "EPERM" && code !== "ENOTSUP" && code !== "EMLINK") throw err;
        await copyFile(src, tmp);
      }
      await rename(tmp, dest);
    } catch (err) {
      await rm(tmp, { force: true });
      throw storageError(GitRepositoryReasons.ArchiveOperationFailed, "link shared artifact", err);
    }
  }

  /**
   * Removes this object's old artifacts: keeps `current` plus the newest others up to retentionRecords in all,
   * and among those only the ones younger than the TTL. Returns the removed artifact paths.
   */
  async garbageCollect(obj: ObjectIdentity, current: string | undefined, now = Date.now()): Promise<string[]> {
    const dir = this.objectDir(obj);
    let names: string[];
    try {
      names = await readdir(this.localPath(dir));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw storageError(GitRepositoryReasons.StatOperationFailed, "list artifacts for garbage collection", err);
    }
    const others: { path: string; mtime: number }[] = [];
    for (const name of names) {
      const path = `${dir}/${name}`;
      if (path === current) continue;
      const abs = this.localPath(path);
      const st = await stat(abs).catch(() => undefined);
      if (!st?.isFile()) continue;
      others.push({ path, mtime: st.mtimeMs });
    }
    others.sort((a, b) => b.mtime - a.mtime || (a.path < b.path ? 1 : -1));
    const keep = Math.max(0, this.retentionRecords - (current ? 1 : 0));
    const removed: string[] = [];
    others.forEach((o, i) => {
      if (i >= keep || now - o.mtime > this.retentionTtlMs) removed.push(o.path);
    });
    for (const path of removed) {
      try {
        await rm(this.localPath(path), { force: true });
      } catch (err) {
        throw storageError(GitRepositoryConditions.StorageOperationFailed, "remove old artifact", err);
      }
    }
    return removed;
  }

  /** Removes every artifact of the object (the finalizer's job). */
  async removeAll(obj: ObjectIdentity): Promise<void> {
    try {
      await rm(this.localPath(this.objectDir(obj)), { recursive: true, force: true });
    } catch (err) {
      throw storageError(GitRepositoryConditions.StorageOperationFailed, "remove artifacts", err);
    }
  }
}
