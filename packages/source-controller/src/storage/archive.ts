// Reproducible tar.gz artifacts: the same tree gives the same bytes whatever the mtimes, owners, umask or directory
// listing order. Entries are sorted; uid/gid/uname/gname and mtimes are zeroed; modes are 0755 for directories and
// executables, 0644 for other files. Symlinks are dropped as Flux drops them, except that one pointing outside the
// tree is an error (it would mean the checkout tried to reach the controller's file system).

import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { lstat, readdir, readFile, readlink, rename, rm } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { GitRepositoryReasons } from "@capstan/api";
import tarStream from "tar-stream";
import { BuildError } from "../errors.js";

export interface ArchiveOptions {
  /** Returns true for paths to leave out ("a/b.yaml", POSIX separators). */
  exclude?: (relPath: string, isDir: boolean) => boolean;
  /** Maximum size in bytes of the compressed artifact; larger is an error. */
  maxSize?: number;
}

export interface ArchiveResult {
  /** "sha256:<hex>" of the tar.gz bytes. */
  digest: string;
  size: number;
}

interface Entry {
  rel: string;
  abs: string;
  dir: boolean;
  mode: number;
  size: number;
}

const epoch = new Date(0);
const smallFile = 1024 * 1024;

/** Lists what goes into the archive, in archive order, checking symlinks on the way. */
export async function collectEntries(root: string, options: ArchiveOptions = {}): Promise<Entry[]> {
  const out: Entry[] = [];
  const walk = async (relDir: string): Promise<void> => {
    const names = (await readdir(join(root, relDir))).sort();
    for (const name of names) {
      const rel = relDir ? `${relDir}/${name}` : name;
      const entry = await entryFor(root, rel, options);
      if (!entry) continue;
      out.push(entry);
      if (entry.dir) await walk(rel);
    }
  };
  await walk("");
  return out;
}

async function entryFor(root: string, rel: string, options: ArchiveOptions): Promise<Entry | undefined> {
  const abs = join(root, rel);
  const st = await lstat(abs);
  const isDir = st.isDirectory();
  if (basename(rel) === ".git" || options.exclude?.(rel, isDir)) return undefined;
  if (st.isSymbolicLink()) {
    await checkSymlink(root, rel, abs);
    return undefined;
  }
  if (isDir) return { rel, abs, dir: true, mode: 0o755, size: 0 };
  if (st.isFile()) return { rel, abs, dir: false, mode: st.mode & 0o111 ? 0o755 : 0o644, size: st.size };
  return undefined; // sockets, fifos, devices: never part of an artifact
}

/** Symlinks are dropped; one that points outside the tree is refused instead. */
async function checkSymlink(root: string, rel: string, abs: string): Promise<void> {
  const target = resolve(dirname(abs), await readlink(abs));
  const inside = relative(root, target);
  if (inside === ".." || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    throw new BuildError(
      GitRepositoryReasons.InvalidPath,
      `symlink '${rel}' points outside the repository: make it relative and inside the repository, or exclude it with .sourceignore or spec.ignore`,
    );
  }
}

const readAhead = 32;
// Buffered entries are not awaited one by one (each wait is a round trip through the stream machinery); waiting for
// one every few MiB keeps memory bounded when gzip or the disk is slower than reading.
const flushBytes = 4 * 1024 * 1024;

function pipeEntries(pack: tarStream.Pack, entries: Entry[]): Promise<void> {
  // Small files are read a window ahead of the packer (reads run in parallel in libuv's pool while entries are
  // written in order): one read per file instead of a stream per file, and no waiting on each read in turn.
  const reads = new Map<number, Promise<Buffer>>();
  const readSmall = (i: number) => {
    const e = entries[i];
    if (!e || e.dir || e.size > smallFile) return;
    const read = readFile(e.abs);
    read.catch(() => undefined); // awaited in order below; an abandoned read must not be an unhandled rejection
    reads.set(i, read);
  };
  for (let i = 0; i < readAhead; i++) readSmall(i);
  let pending = 0;
  return (async () => {
    for (const [i, e] of entries.entries()) {
      readSmall(i + readAhead);
      const header = {
        name: e.dir ? `${e.rel}/` : e.rel,
        mode: e.mode,
        mtime: epoch,
        uid: 0,
        gid: 0,
        uname: "",
        gname: "",
      };
      if (e.dir) {
        pack.entry({ ...header, type: "directory" });
        continue;
      }
      const read = reads.get(i);
      if (read) {
        reads.delete(i);
        const content = await read;
        if (content.length !== e.size) throw new Error(`'${e.rel}' changed while it was archived`);
        const written = new Promise<void>((ok, fail) =>
          pack.entry({ ...header, type: "file", size: e.size }, content, (err) => (err ? fail(err) : ok())),
        );
        pending += e.size;
        if (pending >= flushBytes) {
          await written;
          pending = 0;
        } else written.catch(() => undefined);
        continue;
      }
      await new Promise<void>((ok, fail) => {
        const sink = pack.entry({ ...header, type: "file", size: e.size }, (err) => (err ? fail(err) : ok()));
        pipeline(createReadStream(e.abs), sink).catch(fail);
      });
    }
    pack.finalize();
  })().catch((err: unknown) => {
    pack.destroy(err instanceof Error ? err : new Error(String(err)));
    throw err;
  });
}

/**
 * Archives `dir` into `destFile` atomically (temp file beside it, then rename). Errors from the file system are left
 * as they are (with their errno code) for the storage layer to classify.
 */
export async function archiveDirectory(
  dir: string,
  destFile: string,
  options: ArchiveOptions = {},
): Promise<ArchiveResult> {
  const entries = await collectEntries(dir, options);
  const tmp = join(dirname(destFile), `.${basename(destFile)}.${process.pid}.${Date.now()}.tmp`);
  const hash = createHash("sha256");
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (options.maxSize !== undefined && size > options.maxSize) {
        done(
          new BuildError(
            GitRepositoryReasons.ArchiveOperationFailed,
            `artifact exceeds the size limit of ${options.maxSize} bytes (--artifact-max-size): exclude large files with .sourceignore or spec.ignore`,
          ),
        );
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const pack = tarStream.pack();
  try {
    await Promise.all([
      pipeEntries(pack, entries),
      pipeline(pack, createGzip({ level: 6 }), meter, createWriteStream(tmp, { mode: 0o644 })),
    ]);
    await rename(tmp, destFile);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { digest: `sha256:${hash.digest("hex")}`, size };
}
