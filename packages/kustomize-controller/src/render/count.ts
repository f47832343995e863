// A cheap count of the resource documents under a build path, taken only to explain a build timeout: each Kubernetes
// object in YAML has one top-level `kind:` line (in JSON, one line starting with `{`). Bounded in files and bytes read, so explaining a timeout on a huge
// source costs little; past the bounds the count is a lower bound.
import type { Dirent } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { kustomizationFileNames } from "./overlay.js";

/** From this many documents on, a timeout is reported as the size problem it is (kustomize is quadratic). */
export const largeSourceDocuments = 2000;

export interface DocumentCount {
  documents: number;
  /** The walk stopped at its bounds: there are at least `documents`. */
  atLeast: boolean;
}

export interface CountBounds {
  maxFiles: number;
  maxBytes: number;
}

const defaultBounds: CountBounds = { maxFiles: 20_000, maxBytes: 64 * 1024 * 1024 };
const skipped = new Set<string>(kustomizationFileNames);

export async function countDocuments(dir: string, bounds: CountBounds = defaultBounds): Promise<DocumentCount> {
  let documents = 0;
  let files = 0;
  let bytes = 0;
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop() as string;
    let entries: Dirent[];
    try {
      entries = await readdir(current, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const path = join(current, entry.name);
      // Dirent types come from lstat: symlinks are not followed, so the walk cannot loop or leave the tree.
      if (entry.isDirectory()) {
        pending.push(path);
        continue;
      }
      if (!entry.isFile() || !/\.ya?ml$/i.test(entry.name) || skipped.has(entry.name)) continue;
      const size = (await stat(path).catch(() => undefined))?.size ?? 0;
      if (++files > bounds.maxFiles || bytes + size > bounds.maxBytes) return { documents, atLeast: true };
      bytes += size;
      const text = await readFile(path, "utf8").catch(() => "");
      // YAML objects have a top-level `kind:` line; JSON objects (JSON is YAML) start a line with `{`.
      documents += (text.match(/^kind:[ \t]*\S/gm)?.length ?? 0) + (text.match(/^\{/gm)?.length ?? 0);
    }
  }
  return { documents, atLeast: false };
}
