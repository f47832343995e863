// From an extracted artifact to objects: copy to a scratch dir (the artifact cache stays pristine), write the overlay,
// refuse remote or escaping references, run kustomize.
import { cp, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BuildError } from "../errors.js";
import type { KubeObject } from "../kube.js";
import { assertLocalOnly } from "./guard.js";
import { type KustomizeOptions, kustomizeBuild } from "./kustomize.js";
import { type OverlaySpec, writeOverlay } from "./overlay.js";
import { resolveInside } from "./paths.js";

export interface BuildInput {
  /** The extracted artifact; read, never written. */
  sourceDir: string;
  /** spec.path, relative to the artifact root ("./" when empty). */
  path?: string;
  overlay: OverlaySpec;
  kustomize: KustomizeOptions;
  /** Where scratch copies go; the OS temp dir by default. */
  scratchDir?: string;
}

export async function buildManifests(input: BuildInput): Promise<KubeObject[]> {
  const scratch = await mkdtemp(join(input.scratchDir ?? tmpdir(), "kustomize-build-"));
  try {
    const root = join(scratch, "src");
    await cp(input.sourceDir, root, { recursive: true, verbatimSymlinks: true });
    const path = input.path?.trim() || "./";
    const dir = resolveInside(root, path);
    if (dir === undefined) throw new BuildError(`kustomization path '${path}' points outside the source`);
    const s = await stat(dir).catch(() => undefined);
    if (!s?.isDirectory()) throw new BuildError(`kustomization path not found: '${path}'`);
    const overlay = await writeOverlay(root, dir, input.overlay);
    if (overlay.generated && overlay.resources.length === 0) return [];
    await assertLocalOnly(root, dir);
    return await kustomizeBuild(dir, input.kustomize);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
