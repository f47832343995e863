// Gathers postBuild variables: substituteFrom ConfigMaps and Secrets (in order, later wins), then the inline
// `substitute` map, which overrides them all, as Flux does.

import { KustomizationReasons, type PostBuild, type SubstituteReference } from "@capstan/api";
import { decodeSecretStrings, ReconcileError, readSecret, SecretReadError } from "@capstan/runtime";
import type { Client, KubeObject } from "../kube.js";
import { normalizeValue } from "./substitute.js";

/**
 * The data of one substituteFrom referent, decoded (Secrets through the runtime's Secret reader); undefined when it
 * does not exist. Errors carry the API error about the object, never its data.
 */
async function referentData(
  client: Client,
  namespace: string,
  ref: SubstituteReference,
): Promise<Record<string, string> | undefined> {
  try {
    if (ref.kind === "Secret") {
      return decodeSecretStrings((await readSecret(client, { namespace, name: ref.name }, "substitution")).data);
    }
    const cm = await client.get<KubeObject & { data?: Record<string, string> }>({
      apiVersion: "v1",
      kind: ref.kind,
      name: ref.name,
      namespace,
    });
    return cm ? (cm.data ?? {}) : undefined;
  } catch (err) {
    if (err instanceof SecretReadError && err.notFound) return undefined;
    const cause = err instanceof SecretReadError ? err.cause : err;
    throw new ReconcileError(`substitute from '${ref.kind}/${ref.name}' error: ${(cause as Error).message}`, {
      reason: KustomizationReasons.BuildFailed,
      cause,
    });
  }
}

export async function loadVariables(
  client: Client,
  namespace: string,
  postBuild: PostBuild,
): Promise<Record<string, string>> {
  const vars: Record<string, string> = {};
  for (const ref of postBuild.substituteFrom ?? []) {
    if (ref.kind !== "ConfigMap" && ref.kind !== "Secret") {
      throw new ReconcileError(`substitute from '${String(ref.kind)}/${ref.name}': kind must be ConfigMap or Secret`, {
        reason: KustomizationReasons.BuildFailed,
      });
    }
    const data = await referentData(client, namespace, ref);
    if (!data) {
      if (ref.optional) continue;
      throw new ReconcileError(`substitute from '${ref.kind}/${ref.name}' error: ${ref.kind} "${ref.name}" not found`, {
        reason: KustomizationReasons.BuildFailed,
      });
    }
    for (const [k, v] of Object.entries(data)) vars[k] = normalizeValue(v);
  }
  for (const [k, v] of Object.entries(postBuild.substitute ?? {})) vars[k] = normalizeValue(v);
  return vars;
}
