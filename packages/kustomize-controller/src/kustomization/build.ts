// The build step's work: the artifact fetched (or the last build reused), `kustomize build` with Flux's overlay,
// postBuild substitution and commonMetadata; failures with Flux's reasons ArtifactFailed and BuildFailed.
import { KustomizationReasons } from "@capstan/api";
import { type ReconcileContext, ReconcileError, traced } from "@capstan/runtime";
import { decryptObjects, decryptSources, loadDecryptionKeys } from "../decrypt/decrypt.js";
import { openGnupgHome } from "../decrypt/gnupg.js";
import { Sops } from "../decrypt/sops.js";
import type { ArtifactFetcher } from "../fetch/fetcher.js";
import type { Client, KubeObject } from "../kube.js";
import { fmtObject } from "../object.js";
import { buildManifests } from "../render/build.js";
import type { BuildCache } from "../render/cache.js";
import { setCommonMetadata } from "../render/metadata.js";
import { substituteObjects } from "../render/substitute.js";
import { loadVariables } from "../render/variables.js";
import type { Progress } from "./progress.js";
import type { KustomizationObject, SourceArtifact } from "./types.js";

export interface BuildDeps {
  fetcher: ArtifactFetcher;
  kustomizeBinary: string;
  /** (Capstan) The sops binary spec.decryption runs (--sops-path). */
  sopsBinary?: string;
  strictSubstitutions?: boolean;
  scratchDir?: string;
  /** (Capstan) Reuses a Kustomization's last build while its inputs are unchanged (render/cache.ts). */
  buildCache?: BuildCache;
}

export interface BuildInput {
  ctx: ReconcileContext;
  obj: KustomizationObject;
  client: Client;
  source: SourceArtifact;
  timeoutMs: number;
  progress: Progress;
}

export function keyOf(obj: KustomizationObject): string {
  return `${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
}

function fail(reason: string, what: string, cause: unknown): never {
  throw new ReconcileError(`${what}${cause instanceof Error ? `: ${cause.message}` : ""}`, { reason, cause });
}

function isSopsEncrypted(o: KubeObject): boolean {
  return o.kind === "Secret" && o.apiVersion === "v1" && typeof o.sops === "object" && o.sops !== null;
}

/**
 * The previous build when nothing it was made from changed (or only what comes after `kustomize build`). Failing to
 * gather the inputs (a missing substituteFrom Secret, say) is not reported here: the build reports it, in the order
 * it always has.
 */
async function reusedBuild(deps: BuildDeps, input: BuildInput) {
  const cache = deps.buildCache;
  // Decrypted builds are not kept: the keys are not among the inputs, and a rotated or removed key must be seen.
  if (!cache || input.obj.spec.decryption) return {};
  const { obj, client } = input;
  let variables: Record<string, string> | undefined;
  try {
    if (obj.spec.postBuild)
      variables = await loadVariables(client, obj.metadata.namespace ?? "default", obj.spec.postBuild);
  } catch {
    return {};
  }
  const fingerprints = cache.fingerprints({
    digest: input.source.digest,
    spec: obj.spec,
    variables,
    settings: { kustomize: deps.kustomizeBinary, strict: deps.strictSubstitutions ?? false },
  });
  return { fingerprints, variables, reused: cache.lookup(keyOf(obj), fingerprints) };
}

/** postBuild substitution and commonMetadata: what Flux does to the objects after `kustomize build`. */
async function afterBuild(
  deps: BuildDeps,
  input: BuildInput,
  built: KubeObject[],
  variables: Record<string, string> | undefined,
): Promise<KubeObject[]> {
  const spec = input.obj.spec;
  let objects = built;
  if (spec.postBuild) {
    const vars =
      variables ?? (await loadVariables(input.client, input.obj.metadata.namespace ?? "default", spec.postBuild));
    objects = substituteObjects(objects, vars, {
      strict: deps.strictSubstitutions ?? false,
      always: spec.postBuild.substituteStrategy === "Always",
    });
  }
  return setCommonMetadata(objects, spec.commonMetadata);
}

function failBuild(cause: unknown): never {
  // The renderer's own failures (BuildFailed) already say what failed and where; anything else gets the prefix.
  if (cause instanceof ReconcileError) throw cause;
  fail(KustomizationReasons.BuildFailed, "kustomize build failed", cause);
}

/** Fetches the artifact and runs `kustomize build` with Flux's overlay (and decryption): the objects before postBuild. */
async function kustomizeBuild(deps: BuildDeps, input: BuildInput): Promise<KubeObject[]> {
  const { ctx, obj, source, progress } = input;
  progress.report("Fetching manifests", source.revision);
  let dir: string;
  try {
    dir = await traced(ctx, "fetch", () => deps.fetcher.fetch(source, ctx.signal));
  } catch (cause) {
    fail(KustomizationReasons.ArtifactFailed, "failed to fetch artifact", cause);
  }
  progress.report("Building manifests", source.revision);
  const spec = obj.spec;
  // The key Secret is read with the controller's own client, as Flux does: not as the impersonated tenant, and from
  // the Kustomization's namespace on this cluster even when spec.kubeConfig applies to another (SECURITY.md).
  const keys = spec.decryption ? await loadDecryptionKeys(ctx.client, obj) : undefined;
  const gnupg = keys && keys.pgp.length > 0 ? await openGnupgHome(keys.pgp, deps.scratchDir) : undefined;
  const decryption = keys
    ? {
        keys,
        sops: new Sops({
          binary: deps.sopsBinary ?? "sops",
          timeoutMs: input.timeoutMs,
          signal: ctx.signal,
          ...(deps.scratchDir ? { scratchDir: deps.scratchDir } : {}),
          ...(gnupg ? { gnupgHome: gnupg.path } : {}),
        }),
      }
    : undefined;
  let built: KubeObject[];
  try {
    built = await buildManifests({
      sourceDir: dir,
      path: spec.path,
      overlay: spec,
      kustomize: {
        binary: deps.kustomizeBinary,
        timeoutMs: input.timeoutMs,
        signal: ctx.signal,
        span: (name, fn) => traced(ctx, name, fn),
      },
      ...(deps.scratchDir ? { scratchDir: deps.scratchDir } : {}),
      ...(decryption
        ? { prepare: (root: string, dir: string) => decryptSources(root, dir, decryption.sops, decryption.keys) }
        : {}),
    });
    if (decryption) built = await decryptObjects(built, decryption.sops, decryption.keys);
  } catch (cause) {
    failBuild(cause);
  } finally {
    await gnupg?.close();
  }
  return built;
}

/** The objects the artifact renders to, before owner labels. */
export async function render(deps: BuildDeps, input: BuildInput): Promise<KubeObject[]> {
  const { ctx, obj } = input;
  const { fingerprints, variables, reused } = await reusedBuild(deps, input);
  if (reused && "output" in reused) {
    ctx.log.debug({ objects: reused.output.length }, "build skipped: same artifact, spec and variables");
    return reused.output;
  }
  if (reused) {
    ctx.log.debug({ objects: reused.built.length }, "build skipped: same artifact and overlay, postBuild again");
    let output: KubeObject[];
    try {
      output = await afterBuild(deps, input, reused.built, variables);
    } catch (cause) {
      failBuild(cause);
    }
    if (fingerprints) deps.buildCache?.set(keyOf(obj), fingerprints, output, reused.built);
    return output;
  }
  const cache = deps.buildCache;
  let built: KubeObject[];
  if (cache && fingerprints) {
    const shared = await cache.sharedBuild(fingerprints.shared, () => kustomizeBuild(deps, input), ctx.signal);
    if (shared.shared) {
      ctx.log.debug(
        { objects: shared.built.length },
        "build skipped: another Kustomization built this artifact and overlay",
      );
    }
    built = shared.built;
  } else {
    built = await kustomizeBuild(deps, input);
  }
  let objects: KubeObject[];
  try {
    objects = await afterBuild(deps, input, built, variables);
  } catch (cause) {
    failBuild(cause);
  }
  const encrypted = objects.find(isSopsEncrypted);
  if (encrypted) {
    throw new ReconcileError(
      `${fmtObject(encrypted)} is SOPS encrypted, configuring decryption is required for this secret to be reconciled`,
      { reason: KustomizationReasons.BuildFailed },
    );
  }
  if (fingerprints) deps.buildCache?.set(keyOf(obj), fingerprints, objects, built);
  return objects;
}
