// Temporary directories for unit tests, each removed after the test that made it.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";

/** Call at the top of a test file; the returned function makes a fresh directory named `capstan-<prefix>-…`. */
export function useTempDirs(prefix: string): () => Promise<string> {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });
  return async () => {
    const d = await mkdtemp(join(tmpdir(), `capstan-${prefix}-`));
    dirs.push(d);
    return d;
  };
}

/**
 * Runs `fn` with TMPDIR pointing at a directory that does not exist: a git session (a 0700 temp directory with
 * askpass and certificate files) cannot be opened then, so what succeeds inside opened none.
 */
export async function withoutTempDir<T>(missing: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = missing;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
}
