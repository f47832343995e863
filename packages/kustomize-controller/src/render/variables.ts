// Gathers postBuild variables: substituteFrom ConfigMaps and Secrets (in order, later wins), then the inline
// `substitute` map, which overrides them all, as Flux does.

import { BuildError } from "../errors.js";
import type { Client, KubeObject } from "../kube.js";
import { normalizeValue } from "./substitute.js";

export interface SubstituteReference {
  kind: "ConfigMap" | "Secret";
  name: string;
  optional?: boolean;
}

export interface PostBuild {
  substitute?: Record<string, string>;
  substituteFrom?: SubstituteReference[];
}

export async function loadVariables(
  client: Client,
  namespace: string,
  postBuild: PostBuild,
): Promise<Record<string, string>> {
  const vars: Record<string, string> = {};
  for (const ref of postBuild.substituteFrom ?? []) {
    if (ref.kind !== "ConfigMap" && ref.kind !== "Secret") {
      throw new BuildError(`substitute from '${String(ref.kind)}/${ref.name}': kind must be ConfigMap or Secret`);
    }
    let obj: (KubeObject & { data?: Record<string, string> }) | undefined;
    try {
      obj = await client.get({ apiVersion: "v1", kind: ref.kind, name: ref.name, namespace });
    } catch (cause) {
      // The cause is an API error about the object, never its data.
      throw new BuildError(`substitute from '${ref.kind}/${ref.name}' error: ${(cause as Error).message}`, { cause });
    }
    if (!obj) {
      if (ref.optional) continue;
      throw new BuildError(`substitute from '${ref.kind}/${ref.name}' error: ${ref.kind} "${ref.name}" not found`);
    }
    for (const [k, v] of Object.entries(obj.data ?? {})) {
      vars[k] = normalizeValue(ref.kind === "Secret" ? Buffer.from(v, "base64").toString("utf8") : v);
    }
  }
  for (const [k, v] of Object.entries(postBuild.substitute ?? {})) vars[k] = normalizeValue(v);
  return vars;
}
