// The kustomize binary is resolved once, at start-up, against the controller's own PATH: builds run with a minimal
// environment (no PATH of ours), so a bare name would not be found there, and a missing binary should stop the process
// with a clear message instead of failing every Kustomization with ENOENT.
import { accessSync, constants } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";

export function resolveExecutable(name: string, path = process.env.PATH ?? ""): string {
  const candidates =
    name.includes("/") || isAbsolute(name)
      ? [resolve(name)]
      : path
          .split(delimiter)
          .filter(Boolean)
          .map((d) => join(d, name));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error(
    name.includes("/")
      ? `kustomize binary ${name} is missing or not executable (--kustomize-path)`
      : `kustomize binary "${name}" not found on PATH; install kustomize or set --kustomize-path`,
  );
}
