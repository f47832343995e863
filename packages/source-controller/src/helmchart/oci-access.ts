// How an OCI HelmRepository is reached, as Flux's GetClientOpts reads it for type 'oci': spec.secretRef is either a
// kubernetes.io/dockerconfigjson Secret (the entry for the registry host) or holds 'username' and 'password';
// spec.certSecretRef holds 'ca.crt' and/or 'tls.crt' with 'tls.key'; spec.insecure means plain HTTP. Messages name
// Secrets and keys, never their values.
import { type Client, readSecretData, SecretReadError } from "@capstan/runtime";
import { CredentialsError, repositoryCredentials } from "../helm/auth.js";
import type { HelmRepositoryObject } from "../helmrepository/state.js";
import type { RegistryCredentials, RegistryTls } from "../ocirepository/auth.js";
import { credentialsFromDockerConfig } from "../ocirepository/auth.js";
import { OciError } from "../ocirepository/errors.js";

export interface OciRepositoryAccess {
  credentials?: RegistryCredentials;
  tls?: RegistryTls;
}

/** Throws CredentialsError for a missing Secret or unusable data. */
export async function ociRepositoryAccess(
  client: Client,
  repo: HelmRepositoryObject,
  configHost: string,
): Promise<OciRepositoryAccess> {
  const plain = await repositoryCredentials(client, repo);
  const out: OciRepositoryAccess = {};
  if (plain.ca || plain.cert) {
    out.tls = {
      ...(plain.ca ? { ca: plain.ca } : {}),
      ...(plain.cert && plain.key ? { cert: plain.cert, key: plain.key } : {}),
    };
  }
  if (plain.username !== undefined && plain.password !== undefined) {
    out.credentials = { username: plain.username, password: plain.password };
    return out;
  }
  const ref = repo.spec.secretRef;
  if (!ref) return out;
  const ns = repo.metadata.namespace ?? "default";
  let data: Readonly<Record<string, Buffer>>;
  try {
    data = await readSecretData(client, { namespace: ns, name: ref.name }, "authentication");
  } catch (err) {
    if (err instanceof SecretReadError) throw new CredentialsError(err.message, { cause: err.cause });
    throw err;
  }
  const json = data[".dockerconfigjson"];
  if (!json?.length) {
    throw new CredentialsError(
      `invalid '${ns}/${ref.name}' secret data: it must be of type kubernetes.io/dockerconfigjson or hold 'username' and 'password'`,
    );
  }
  try {
    const found = credentialsFromDockerConfig(json.toString("utf8"), configHost, ref.name);
    if (!found) throw new CredentialsError(`Secret '${ns}/${ref.name}' has no credentials for '${configHost}'`);
    out.credentials = found;
  } catch (err) {
    if (err instanceof OciError) throw new CredentialsError(err.message, { cause: err });
    throw err;
  }
  return out;
}
