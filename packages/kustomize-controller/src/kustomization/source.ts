// Resolves spec.sourceRef to the Artifact the source publishes in status. Only GitRepository is served by Capstan;
// other kinds are reported as unsupported rather than waited on forever.
// The source is read from the informer cache the controller keeps anyway (its watch requeues dependents), as Flux's
// cached client does: a no-op interval costs no GET. Where the cache cannot be complete (another namespace than the
// watched one; the shard label selector does not filter sources), a miss falls back to a GET.
import { gitRepositoryType, KustomizationReasons } from "@capstan/api";
import { type Cache, formatDuration, ReconcileError, StallingError, WaitingError } from "@capstan/runtime";
import type { Client } from "../kube.js";
import type { GitRepositoryObject, KustomizationObject, SourceArtifact } from "./types.js";

/**
 * --no-cross-namespace-refs: a reference to another namespace is refused before anything is read from it, as Flux's
 * acl.AccessDeniedError (Ready=False and Stalled=True, reason AccessDenied, a Warning event).
 */
export function denyCrossNamespace(obj: KustomizationObject, kind: string, namespace: string, name: string): void {
  if (namespace === obj.metadata.namespace) return;
  throw new StallingError(`can't access '${kind}/${namespace}/${name}', cross-namespace references have been blocked`, {
    reason: KustomizationReasons.AccessDenied,
  });
}

export function sourceKey(obj: KustomizationObject): string {
  const ref = obj.spec.sourceRef;
  return `${ref.namespace || obj.metadata.namespace}/${ref.name}`;
}

/** The GitRepository informer's cache, and whether it holds every GitRepository of a namespace. */
export interface SourceCache {
  cache: Cache<GitRepositoryObject>;
  /** True when a GitRepository of `namespace` missing from the cache does not exist (as far as the watch knows). */
  complete(namespace: string): boolean;
}

export async function resolveSource(
  client: Client,
  obj: KustomizationObject,
  requeueAfterMs: number,
  noCrossNamespaceRefs = false,
  sources?: SourceCache,
): Promise<SourceArtifact> {
  const ref = obj.spec.sourceRef;
  if (noCrossNamespaceRefs) denyCrossNamespace(obj, ref.kind, ref.namespace || obj.metadata.namespace || "", ref.name);
  if (ref.kind !== "GitRepository") {
    throw new StallingError(`source kind '${ref.kind}' is not supported yet: Capstan serves GitRepository only`, {
      reason: KustomizationReasons.ArtifactFailed,
    });
  }
  const namespace = ref.namespace || obj.metadata.namespace;
  const id = `${ref.kind}/${namespace}/${ref.name}`;
  let source: GitRepositoryObject | undefined = sources?.cache.get(sourceKey(obj));
  const askApi = !source && !(sources && namespace && sources.complete(namespace));
  try {
    if (askApi)
      source = await client.get<GitRepositoryObject>({
        apiVersion: gitRepositoryType.apiVersion,
        kind: gitRepositoryType.kind,
        name: ref.name,
        ...(namespace ? { namespace } : {}),
      });
  } catch (cause) {
    throw new ReconcileError(`failed to get source '${id}': ${(cause as Error).message}`, {
      reason: KustomizationReasons.ArtifactFailed,
      cause,
    });
  }
  if (!source) {
    throw new WaitingError(`Source '${id}' not found`, {
      reason: KustomizationReasons.ArtifactFailed,
      requeueAfterMs,
      event: true,
    });
  }
  const artifact = source.status?.artifact;
  if (!artifact?.url || !artifact.digest) {
    // Flux's message and reason. Ready=False is written once (the next waits change nothing, so neither status nor
    // the info log repeat); the source watch wakes this Kustomization the moment the source publishes an artifact,
    // and requeueAfterMs (--requeue-dependency) is only the fallback.
    throw new WaitingError(`Source artifact not found, retrying in ${formatDuration(requeueAfterMs)}`, {
      reason: KustomizationReasons.ArtifactFailed,
      requeueAfterMs,
    });
  }
  const resolved: SourceArtifact = {
    url: artifact.url,
    digest: artifact.digest,
    revision: artifact.revision,
  };
  const origin = artifact.metadata?.["org.opencontainers.image.revision"];
  if (origin) resolved.originRevision = origin;
  return resolved;
}
