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
