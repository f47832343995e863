import { resolve } from "node:path";

/** The checkout's root, from src/ or dist/ of this package (tools/devenv). */
export const repoRoot = resolve(import.meta.dirname, "..", "..", "..");
