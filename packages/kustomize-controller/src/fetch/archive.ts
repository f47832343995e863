// Safe extraction of an artifact tarball: every entry is vetted before anything is written, so a hostile archive
// cannot climb out of the target directory (absolute paths, `..`, symlinks or hard links pointing outside), smuggle
// device files, or fill the disk.
import { mkdir } from "node:fs/promises";
import { posix } from "node:path";
import { extract, list, type ReadEntry } from "tar";
import { ArtifactError } from "../errors.js";

export interface ExtractLimits {
  /** Total bytes of file content after decompression. */
  maxBytes: number;
  maxEntries: number;
}

export const defaultExtractLimits: ExtractLimits = { maxBytes: 512 * 1024 * 1024, maxEntries: 100_000 };

function insideRoot(path: string): boolean {
  const normal = posix.normalize(path);
  return !posix.isAbsolute(path) && normal !== ".." && !normal.startsWith("../");
}

/** Why an entry is refused, or undefined when it is fine. */
export function vetEntry(entry: { path: string; type: string; linkpath?: string }): string | undefined {
  if (!insideRoot(entry.path)) return `entry '${entry.path}' escapes the archive root`;
  switch (entry.type) {
    case "File":
    case "OldFile":
    case "ContiguousFile":
    case "Directory":
      return undefined;
    case "SymbolicLink": {
      const target = entry.linkpath ?? "";
      if (posix.isAbsolute(target) || !insideRoot(posix.join(posix.dirname(entry.path), target))) {
        return `symlink '${entry.path}' points outside the archive root`;
      }
      return undefined;
    }
    case "Link":
      if (!insideRoot(entry.linkpath ?? "")) return `hard link '${entry.path}' points outside the archive root`;
      return undefined;
    default:
      // pax/gnu headers are consumed by the parser and never reach here; anything else (devices, fifos) is refused.
      return `entry '${entry.path}' has unsupported type ${entry.type}`;
  }
}

/** Lists and vets every entry, then extracts into `dest` (created). Throws ArtifactError on the first violation. */
export async function extractArchive(
  file: string,
  dest: string,
  limits: ExtractLimits = defaultExtractLimits,
): Promise<void> {
  let total = 0;
  let count = 0;
  let violation: string | undefined;
  try {
    await list({
      file,
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        if (violation) return;
        count++;
        total += entry.size ?? 0;
        violation =
          vetEntry({ path: entry.path, type: entry.type, linkpath: entry.linkpath }) ??
          (count > limits.maxEntries ? `archive has more than ${limits.maxEntries} entries` : undefined) ??
          (total > limits.maxBytes ? `archive content exceeds ${limits.maxBytes} bytes` : undefined);
      },
    });
  } catch (cause) {
    throw new ArtifactError(`failed to read artifact archive: ${(cause as Error).message}`, { cause });
  }
  if (violation) throw new ArtifactError(`refusing artifact archive: ${violation}`);
  await mkdir(dest, { recursive: true });
  try {
    // preservePaths false (default) is a second fence: tar itself strips `/` and refuses `..`.
    await extract({ file, cwd: dest, strict: true, noChmod: true, preserveOwner: false, maxDepth: 256 });
  } catch (cause) {
    throw new ArtifactError(`failed to extract artifact archive: ${(cause as Error).message}`, { cause });
  }
}
