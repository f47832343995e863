// The OCIRepository sub-reconcilers, in Flux's order: storage, source, artifact. Each owns its conditions.
import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  OCIRepositoryConditions as Condition,
  OCIRepositoryReasons,
  ociRepositoryType,
  SourceEventAnnotations,
} from "@capstan/api";
import {
  markReconciling,
  markTrue,
  Reasons,
  ReconcileError,
  removeCondition,
  type Step,
  specDuration,
} from "@capstan/runtime";
import { SourceError } from "../errors.js";
import { loadIgnoreFiles, matcherFrom, readPatterns } from "../storage/ignore.js";
import { type Storage, storageError } from "../storage/storage.js";
import type { RegistryAuthCache } from "./auth-cache.js";
import { RegistryClient } from "./client.js";
import { deadline } from "./deadline.js";
import { OciError } from "./errors.js";
import { extractLayer, selectLayer } from "./layer.js";
import { parseOciUrl, parseRef, revisionOf } from "./reference.js";
import { registryCredentials, registryProxy, registryTls } from "./secrets.js";
import { contentConfigUnchanged, normalizeSelector, type OCIRepositoryObject, type OciState } from "./state.js";
import { chooseSemverTag } from "./tags.js";

export interface OciStepDeps {
  storage: Storage;
  /** Upper bound in bytes on the downloaded layer and on the stored artifact (--artifact-max-size; a default else). */
  layerMaxSize: number;
  /** Upper bounds on what an extracted layer may hold. */
  extractMaxSize: number;
  extractMaxEntries: number;
  /** Registry challenges and tokens kept between reconciles (Capstan). */
  authCache?: RegistryAuthCache;
}

type OciStep = Step<OCIRepositoryObject, OciState>;
type Ctx = Parameters<OciStep>[0];

const identity = (obj: OCIRepositoryObject) => ({
  kind: ociRepositoryType.kind,
  namespace: obj.metadata.namespace ?? "default",
  name: obj.metadata.name,
});

const storedMessage = (revision: string) => `stored artifact for digest '${revision}'`;

/** Storage: a recorded artifact whose file is gone, or no longer matches its digest, is dropped and built again. */
export function reconcileStorage(deps: OciStepDeps): OciStep {
  return async (ctx, obj, state) => {
    removeCondition(obj, Condition.StorageOperationFailed);
    const artifact = obj.status?.artifact;
    if (artifact?.digest) state.previousDigest = artifact.digest;
    let missing = false;
    if (artifact) {
      missing = !(await deps.storage.exists(artifact.path));
      const mismatch = missing ? undefined : await deps.storage.verify(artifact.path, artifact.digest);
      if (mismatch) {
        ctx.events.event(
          obj,
          "Warning",
          OCIRepositoryReasons.ArtifactVerificationFailed,
          `failed to verify integrity of artifact: ${mismatch}`,
        );
        await deps.storage.remove(artifact.path);
        missing = true;
      }
      if (missing && obj.status) {
        delete obj.status.artifact;
        delete obj.status.url;
      }
    }
    const current = obj.status?.artifact;
    if (!current) {
      removeCondition(obj, Condition.ArtifactInStorage);
      markReconciling(
        obj,
        Reasons.Progressing,
        missing ? "building artifact: disappeared from storage" : "building artifact",
      );
      return;
    }
    current.url = deps.storage.url(current.path);
    if (obj.status) obj.status.url = current.url;
    markTrue(obj, Condition.ArtifactInStorage, Reasons.Succeeded, storedMessage(current.revision));
  };
}

/** What Capstan refuses before touching the network: cloud identity providers, signature verification, proxies. */
function checkSupported(obj: OCIRepositoryObject): void {
  const provider = obj.spec.provider ?? "generic";
  if (provider !== "generic") {
    throw new OciError(
      "provider",
      `provider '${provider}' is not supported by Capstan: use provider 'generic' with spec.secretRef or the ServiceAccount's imagePullSecrets`,
      { stalling: true },
    );
  }
  if (obj.spec.verify) {
    throw new SourceError(
      Condition.SourceVerified,
      OCIRepositoryReasons.VerificationError,
      `signature verification (verify.provider '${obj.spec.verify.provider}') is not supported by Capstan: remove spec.verify`,
      { stalling: true },
    );
  }
}

async function client(ctx: Ctx, obj: OCIRepositoryObject, signal: AbortSignal, authCache?: RegistryAuthCache) {
  const address = parseOciUrl(obj.spec.url);
  const credentials = await registryCredentials(ctx.client, obj, address.configHost);
  const tls = await registryTls(ctx.client, obj);
  const proxy = await registryProxy(ctx.client, obj);
  return new RegistryClient({
    host: address.host,
    repository: address.repository,
    plainHttp: Boolean(obj.spec.insecure),
    ...(credentials ? { credentials } : {}),
    ...(tls ? { tls } : {}),
    ...(proxy ? { proxy } : {}),
    ...(authCache ? { authCache } : {}),
    signal,
  });
}

/** Source: resolve the reference (one manifest HEAD for a tag); pull and unpack the layer only when it changed. */
export function reconcileSource(deps: OciStepDeps): OciStep {
  return async (ctx, obj, state) => {
    checkSupported(obj);
    removeCondition(obj, Condition.SourceVerified);
    const ref = parseRef(obj.spec.ref);
    parseOciUrl(obj.spec.url);
    const artifact = obj.status?.artifact;
    // A digest names its content: with the artifact already built from it, the registry need not be asked.
    if (ref.type === "digest" && artifact?.revision === ref.digest && contentConfigUnchanged(obj)) {
      state.upToDate = true;
      removeCondition(obj, Condition.FetchFailed);
      return;
    }
    const pull = deadline(ctx.signal, specDuration(obj, "timeout") ?? 60_000);
    const registry = await client(ctx, obj, pull.signal, deps.authCache).catch((err: unknown) => {
      pull.dispose();
      throw err;
    });
    try {
      let tag: string | undefined;
      let digest: string;
      if (ref.type === "digest") digest = ref.digest;
      else {
        tag = ref.type === "tag" ? ref.tag : chooseSemverTag(await registry.tags(), ref.range, ref.filter);
        digest = await registry.resolve(tag);
      }
      const revision = revisionOf(tag, digest);
      state.revision = revision;
      if (artifact?.revision === revision && contentConfigUnchanged(obj)) {
        state.upToDate = true;
        removeCondition(obj, Condition.FetchFailed);
        return;
      }
      if (artifact && artifact.revision !== revision) {
        const message = `new revision '${revision}' for '${obj.spec.url}'`;
        markTrue(obj, Condition.ArtifactOutdated, OCIRepositoryReasons.NewRevision, message);
        markReconciling(obj, Reasons.Progressing, `building artifact: ${message}`);
      }
      const manifest = await registry.manifest(digest);
      const layer = selectLayer(manifest.layers, obj.spec.layerSelector?.mediaType, digest);
      state.tmp = await mkdtemp(join(tmpdir(), "capstan-ocirepository-"));
      const blobFile = join(state.tmp, "layer");
      await registry.downloadBlob(layer, blobFile, deps.layerMaxSize);
      state.pulled = { revision, digest, annotations: manifest.annotations, layer, blobFile };
      if ((obj.spec.layerSelector?.operation ?? "extract") === "extract") {
        const dir = join(state.tmp, "content");
        await mkdir(dir);
        await extractLayer(blobFile, dir, { maxBytes: deps.extractMaxSize, maxEntries: deps.extractMaxEntries });
        state.pulled.extractedDir = dir;
      }
    } catch (err) {
      throw ReconcileError.wrap(err, "failed to pull artifact");
    } finally {
      registry.close();
      pull.dispose();
    }
    removeCondition(obj, Condition.FetchFailed);
  };
}

function markStored(obj: OCIRepositoryObject, revision: string): void {
  removeCondition(obj, Condition.ArtifactOutdated);
  markTrue(obj, Condition.ArtifactInStorage, Reasons.Succeeded, storedMessage(revision));
}

/** Stores the downloaded blob unchanged (layerSelector.operation 'copy'); resolves to its digest and size. */
async function storeCopy(storage: Storage, path: string, blobFile: string, digest: string, size: number) {
  const dest = storage.localPath(path);
  try {
    await mkdir(dirname(dest), { recursive: true });
    await rename(blobFile, dest);
  } catch (err) {
    throw storageError(OCIRepositoryReasons.ArchiveOperationFailed, "write artifact to storage", err);
  }
  return { digest, size };
}

/** Artifact: archive (or copy) the layer into storage, record status, emit NewArtifact, collect garbage. */
export function reconcileArtifact(deps: OciStepDeps): OciStep {
  return async (ctx, obj, state) => {
    const artifact = obj.status?.artifact;
    if (state.upToDate && artifact) {
      markStored(obj, artifact.revision);
      await deps.storage.garbageCollect(identity(obj), artifact.path).catch(() => undefined);
      return;
    }
    const pulled = state.pulled;
    if (!pulled)
      throw new ReconcileError("no pulled layer to build an artifact from", { reason: Reasons.ReconciliationFailed });
    const path = deps.storage.artifactPath(identity(obj), `${pulled.digest.slice("sha256:".length)}.tar.gz`);
    let result: { digest: string; size: number };
    try {
      if (pulled.extractedDir) {
        const dir = pulled.extractedDir;
        const user = obj.spec.ignore === undefined ? [] : readPatterns(obj.spec.ignore);
        const matcher = matcherFrom([...(await loadIgnoreFiles(dir)), { domain: "", patterns: user }]);
        result = await deps.storage.archive(path, dir, {
          exclude: (p, isDir) => matcher.ignores(p, isDir),
          maxSize: deps.layerMaxSize,
        });
      } else {
        result = await storeCopy(deps.storage, path, pulled.blobFile, pulled.layer.digest, pulled.layer.size);
      }
    } catch (err) {
      throw ReconcileError.wrap(err, "failed to build artifact");
    }
    obj.status ??= {};
    const url = deps.storage.url(path);
    obj.status.artifact = {
      path,
      url,
      revision: pulled.revision,
      digest: result.digest,
      lastUpdateTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      size: result.size,
      ...(Object.keys(pulled.annotations).length ? { metadata: pulled.annotations } : {}),
    };
    obj.status.url = url;
    if (obj.spec.ignore !== undefined) obj.status.observedIgnore = obj.spec.ignore;
    else delete obj.status.observedIgnore;
    const selector = normalizeSelector(obj.spec.layerSelector);
    if (selector) obj.status.observedLayerSelector = selector;
    else delete obj.status.observedLayerSelector;
    markStored(obj, pulled.revision);
    if (state.previousDigest !== result.digest) {
      ctx.events.event(
        obj,
        "Normal",
        OCIRepositoryReasons.NewArtifact,
        `stored artifact with revision '${pulled.revision}' from '${obj.spec.url}'`,
        { [SourceEventAnnotations.Revision]: pulled.revision, [SourceEventAnnotations.Digest]: result.digest },
      );
    }
    await deps.storage.garbageCollect(identity(obj), path).catch((err: unknown) => {
      ctx.log.info({ err: { message: (err as Error).message } }, "garbage collection of old artifacts failed");
    });
  };
}

export async function removeScratch(state: OciState): Promise<void> {
  if (state.tmp) await rm(state.tmp, { recursive: true, force: true });
}
