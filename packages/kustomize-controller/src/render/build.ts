// From an extracted artifact to objects: copy to a scratch dir (the artifact cache stays pristine), write the overlay,
// refuse remote or escaping references, run kustomize.

import { cp, mkdtemp, realpath, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KustomizationReasons } from "@capstan/api";
import { ReconcileError } from "@capstan/runtime";
import type { KubeObject } from "../kube.js";
import { assertLocalOnly } from "./guard.js";
import { type KustomizeOptions, kustomizeBuild } from "./kustomize.js";
import { type OverlaySpec, writeOverlay } from "./overlay.js";
import { resolveInside, resolveRealInside } from "./paths.js";

export interface BuildInput {
  /** The extracted artifact; read, never written. */
  sourceDir: string;
  /** spec.path, relative to the artifact root ("./" when empty). */
  path?: string;
  overlay: OverlaySpec;
  kustomize: KustomizeOptions;
  /** Where scratch copies go; the OS temp dir by default. */
  scratchDir?: string;
  /**
   * Runs on the scratch copy (its real root, and the build's directory) after the path checks, before kustomize:
   * SOPS decryption, whose plaintext so never reaches disk outside this scratch dir (removed after the build).
   */
  prepare?(root: string, dir: string): Promise<void>;
}

export async function buildManifests(input: BuildInput): Promise<KubeObject[]> {
  const scratch = await mkdtemp(join(input.scratchDir ?? tmpdir(), "kustomize-build-"));
  try {
    await cp(input.sourceDir, join(scratch, "src"), { recursive: true, verbatimSymlinks: true });
    // Real paths from here on: kustomize resolves symlinks, so the checks must see what it will open.
    const root = await realpath(join(scratch, "src"));
    const path = input.path?.trim() || "./";
    if (resolveInside(root, path) === undefined)
      throw new ReconcileError(`kustomization path '${path}' points outside the source`, {
        reason: KustomizationReasons.BuildFailed,
      });
    const dir = await resolveRealInside(root, path);
    if (dir === undefined)
      throw new ReconcileError(`kustomization path '${path}' points outside the source`, {
        reason: KustomizationReasons.BuildFailed,
      });
    const s = await stat(dir).catch(() => undefined);
    if (!s?.isDirectory())
      throw new ReconcileError(`kustomization path not found: '${path}'`, { reason: KustomizationReasons.BuildFailed });
    const overlay = await writeOverlay(root, dir, input.overlay);
    if (overlay.generated && overlay.resources.length === 0) return [];
    await assertLocalOnly(root, dir);
    await input.prepare?.(root, dir);
    return await kustomizeBuild(dir, { ...input.kustomize, label: path });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
