// The path rules of artifact extraction, kept pure (no file system) so they can be tested exhaustively and are
// deterministic: the same entries in the same order always get the same verdicts.
//
// The extractor (archive.ts) writes every directory, file and hard link first and creates the symlinks last, so no
// write ever passes through a symlink. For that to hold, these rules refuse any entry that would sit under a symlink
// (`a -> ..` then `a/x`), replace one, or turn a directory into one, and any path that appears twice. Whether a symlink's
// target stays inside the root is decided by the kernel itself once all symlinks exist (realpath in archive.ts): the
// lexical check here is only a cheap early refusal, because chains (`a/l0 -> ..`, `a/l1 -> l0/..`) are each lexically
// inside yet resolve outside.
import { posix } from "node:path";

/** An entry as the tar header declares it (node-tar's type names). */
export interface ArchiveEntry {
  path: string;
  type: string;
  linkpath?: string | undefined;
}

export type Verdict =
  | { ok: true; kind: "root" }
  | { ok: true; kind: "dir" | "file"; path: string }
  | { ok: true; kind: "symlink"; path: string; target: string }
  | { ok: true; kind: "hardlink"; path: string; target: string }
  | { ok: false; reason: string };

/** Deeper paths are refused: no real repository needs them, and every level costs a mkdir. */
export const maxDepth = 128;
const maxLinkLength = 4096;

const fileTypes = new Set(["File", "OldFile", "ContiguousFile"]);

/** `./a//b/` → ["a", "b"]; undefined when the path is absolute or has a `..` component. */
function components(path: string): string[] | undefined {
  if (path.startsWith("/")) return undefined;
  const parts = path.split("/").filter((c) => c !== "" && c !== ".");
  return parts.includes("..") ? undefined : parts;
}

export class ArchiveVetter {
  /** Every path seen so far (directories implied by deeper entries included) and what it is. */
  private readonly seen = new Map<string, "dir" | "file" | "symlink">();

  vet(entry: ArchiveEntry): Verdict {
    const parts = components(entry.path);
    if (parts === undefined) return refuse(`entry '${entry.path}' escapes the archive root`);
    if (parts.length > maxDepth) return refuse(`entry '${entry.path}' is nested deeper than ${maxDepth} levels`);
    const path = parts.join("/");
    if (path === "")
      return entry.type === "Directory" ? { ok: true, kind: "root" } : refuse("entry with an empty path");

    const parent = this.vetParents(parts);
    if (parent) return refuse(parent);
    const existing = this.seen.get(path);
    switch (entry.type) {
      case "Directory":
        if (existing && existing !== "dir") return refuse(`directory '${path}' replaces the ${existing} '${path}'`);
        this.seen.set(path, "dir");
        return { ok: true, kind: "dir", path };
      case "SymbolicLink":
        return existing ? refuse(`symlink '${path}' replaces the ${existing} '${path}'`) : this.symlink(path, entry);
      case "Link":
        return existing ? refuse(`hard link '${path}' replaces the ${existing} '${path}'`) : this.hardLink(path, entry);
      default:
        if (!fileTypes.has(entry.type)) return refuse(`entry '${path}' has unsupported type ${entry.type}`);
        if (existing) return refuse(`file '${path}' replaces the ${existing} '${path}'`);
        this.seen.set(path, "file");
        return { ok: true, kind: "file", path };
    }
  }

  private symlink(path: string, entry: ArchiveEntry): Verdict {
    const target = entry.linkpath ?? "";
    if (target === "" || target.length > maxLinkLength || target.includes("\0"))
      return refuse(`symlink '${path}' has an invalid target`);
    if (posix.isAbsolute(target)) return refuse(`symlink '${path}' points outside the archive root (absolute)`);
    if (components(posix.join(posix.dirname(path), target)) === undefined)
      return refuse(`symlink '${path}' points outside the archive root`);
    this.seen.set(path, "symlink");
    return { ok: true, kind: "symlink", path, target };
  }

  private hardLink(path: string, entry: ArchiveEntry): Verdict {
    const targetParts = components(entry.linkpath ?? "");
    if (targetParts === undefined) return refuse(`hard link '${path}' points outside the archive root`);
    const target = targetParts.join("/");
    if (this.seen.get(target) !== "file")
      return refuse(`hard link '${path}' points to '${entry.linkpath ?? ""}', which is not a file extracted before it`);
    this.seen.set(path, "file");
    return { ok: true, kind: "hardlink", path, target };
  }

  /** Every parent must be, or become, a plain directory: never a file or a symlink. */
  private vetParents(parts: string[]): string | undefined {
    const prefixes: string[] = [];
    let prefix = "";
    for (const part of parts.slice(0, -1)) {
      prefix = prefix ? `${prefix}/${part}` : part;
      const kind = this.seen.get(prefix);
      if (kind === "symlink" || kind === "file") return `entry '${parts.join("/")}' lies under the ${kind} '${prefix}'`;
      prefixes.push(prefix);
    }
    for (const p of prefixes) this.seen.set(p, "dir");
    return undefined;
  }
}

function refuse(reason: string): Verdict {
  return { ok: false, reason };
}
