// The credentials and TLS settings an OCIRepository names: spec.secretRef, else the imagePullSecrets of
// spec.serviceAccountName (the first that holds credentials for the host), and spec.certSecretRef.
import { type Client, type KubeObject, type ProxyTarget, readSecretData, SecretReadError } from "@capstan/runtime";
import {
  credentialsFromDockerConfig,
  dockerConfigOf,
  type RegistryCredentials,
  type RegistryTls,
  type SecretData,
  tlsFromSecret,
} from "./auth.js";
import { OciError } from "./errors.js";
import type { OCIRepositoryObject } from "./state.js";

async function read(client: Client, namespace: string, name: string, purpose: string): Promise<SecretData> {
  try {
    return await readSecretData(client, { namespace, name }, purpose);
  } catch (err) {
    if (!(err instanceof SecretReadError)) throw err;
    throw new OciError("credentials", err.message, err.cause === undefined ? {} : { cause: err.cause });
  }
}

interface ServiceAccount {
  imagePullSecrets?: { name?: string }[];
}

export async function registryCredentials(
  client: Client,
  obj: OCIRepositoryObject,
  configHost: string,
): Promise<RegistryCredentials | undefined> {
  const ns = obj.metadata.namespace ?? "default";
  const names: string[] = [];
  if (obj.spec.secretRef) names.push(obj.spec.secretRef.name);
  if (obj.spec.serviceAccountName) {
    const sa = await client
      .get<ServiceAccount & KubeObject>({
        apiVersion: "v1",
        kind: "ServiceAccount",
        namespace: ns,
        name: obj.spec.serviceAccountName,
      })
      .catch((cause: unknown) => {
        throw new OciError("credentials", `failed to get ServiceAccount '${obj.spec.serviceAccountName}'`, { cause });
      });
    if (!sa) throw new OciError("credentials", `ServiceAccount '${obj.spec.serviceAccountName}' not found`);
    for (const s of sa.imagePullSecrets ?? []) if (s.name) names.push(s.name);
  }
  for (const name of names) {
    const data = await read(client, ns, name, "registry authentication");
    const found = credentialsFromDockerConfig(dockerConfigOf(data, name), configHost, name);
    if (found) return found;
  }
  if (obj.spec.secretRef) {
    throw new OciError("credentials", `Secret '${obj.spec.secretRef.name}' has no credentials for '${configHost}'`);
  }
  return undefined;
}

export async function registryTls(client: Client, obj: OCIRepositoryObject): Promise<RegistryTls | undefined> {
  const ref = obj.spec.certSecretRef;
  if (!ref) return undefined;
  return tlsFromSecret(await read(client, obj.metadata.namespace ?? "default", ref.name, "TLS"), ref.name);
}

/**
 * spec.proxySecretRef, Flux's keys: `address` (an http or https proxy URL), optional `username` and `password`. The
 * proxy carries every request of the OCIRepository (registry, token service, blob storage), whatever NO_PROXY says.
 */
export async function registryProxy(client: Client, obj: OCIRepositoryObject): Promise<ProxyTarget | undefined> {
  const ref = obj.spec.proxySecretRef;
  if (!ref) return undefined;
  const data = await read(client, obj.metadata.namespace ?? "default", ref.name, "proxy");
  const text = (key: string) => data[key]?.toString("utf8").trim() || undefined;
  const invalid = (why: string) => new OciError("credentials", `invalid proxy Secret '${ref.name}': ${why}`);
  const address = text("address");
  if (!address) throw invalid("'address' is required");
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw invalid("'address' is not a URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw invalid("'address' must be an http or https URL");
  url.username = "";
  url.password = "";
  const target: ProxyTarget = { url };
  const username = text("username");
  const password = text("password");
  if (username) target.username = username;
  if (password) target.password = password;
  return target;
}
