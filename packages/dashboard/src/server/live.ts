// An inventory object's live YAML, read as the user (impersonated). Secrets show their keys only, and what tools leave
// in annotations (kubectl's last-applied-configuration, which repeats a Secret's data) is dropped.
import { isForbidden, isNotFound, type KubeClient, type ObjectRef } from "@capstan/runtime";
import { stringify } from "yaml";
import type { Principal } from "./auth/authenticate.js";

export const maxYamlBytes = 256 * 1024;
const hiddenAnnotations = ["kubectl.kubernetes.io/last-applied-configuration"];

export type LiveResult = { status: 200; yaml: string } | { status: 403 | 404 | 502; error: string };

export function redactObject(obj: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(obj);
  const meta = out.metadata as Record<string, unknown> | undefined;
  if (meta) {
    delete meta.managedFields;
    const ann = meta.annotations as Record<string, string> | undefined;
    if (ann) for (const k of hiddenAnnotations) if (k in ann) ann[k] = "(hidden)";
  }
  if (out.kind === "Secret" && (out.apiVersion === "v1" || out.apiVersion === undefined)) {
    for (const field of ["data", "stringData"]) {
      const d = out[field];
      if (d && typeof d === "object") {
        out[field] = Object.fromEntries(Object.keys(d).map((k) => [k, "(hidden)"]));
      }
    }
  }
  return out;
}

export async function liveYaml(client: KubeClient, who: Principal, ref: ObjectRef): Promise<LiveResult> {
  const as = who.insecure ? client : client.impersonate({ user: who.user, groups: who.groups });
  try {
    const obj = await as.get(ref);
    if (!obj) return { status: 404, error: "not found" };
    let yaml = stringify(redactObject(obj));
    if (yaml.length > maxYamlBytes) yaml = `${yaml.slice(0, maxYamlBytes)}\n# … truncated\n`;
    return { status: 200, yaml };
  } catch (err) {
    if (isForbidden(err)) return { status: 403, error: "you may not read this object" };
    if (isNotFound(err)) return { status: 404, error: "kind not served" };
    return { status: 502, error: "could not read the object" };
  }
}
