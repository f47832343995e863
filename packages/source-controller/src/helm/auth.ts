// What a HelmRepository's Secrets give its HTTP client, as Flux's getter.GetClientOpts reads them: secretRef holds
// 'username' and 'password' (and, deprecated, 'caFile', 'certFile', 'keyFile'); certSecretRef holds 'ca.crt',
// 'tls.crt' and 'tls.key' and takes precedence. A missing Secret or incomplete pair is AuthenticationFailed; messages
// name the Secret and the keys, never their values.
import type { HelmRepository } from "@capstan/api";
import { type Client, readSecretData, SecretReadError } from "@capstan/runtime";

export interface RepositoryCredentials {
  username?: string;
  password?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** Every secret value, for scrubbing messages. */
  secrets: string[];
}

export class CredentialsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CredentialsError";
  }
}

async function read(client: Client, namespace: string, name: string, purpose: string) {
  try {
    return await readSecretData(client, { namespace, name }, purpose);
  } catch (err) {
    if (err instanceof SecretReadError) throw new CredentialsError(err.message, { cause: err.cause });
    throw err;
  }
}

export async function repositoryCredentials(client: Client, repo: HelmRepository): Promise<RepositoryCredentials> {
  const ns = repo.metadata.namespace ?? "default";
  const out: RepositoryCredentials = { secrets: [] };
  const tls = (data: Readonly<Record<string, Buffer>>, ca: string, cert: string, key: string, ref: string) => {
    if (data[cert] && !data[key]) throw new CredentialsError(`invalid '${ref}' secret data: '${key}' is missing`);
    if (data[key] && !data[cert]) throw new CredentialsError(`invalid '${ref}' secret data: '${cert}' is missing`);
    if (data[ca]) out.ca = data[ca];
    if (data[cert] && data[key]) {
      out.cert = data[cert];
      out.key = data[key];
    }
  };
  if (repo.spec.secretRef) {
    const name = repo.spec.secretRef.name;
    const data = await read(client, ns, name, "authentication");
    const username = data.username?.toString("utf8");
    const password = data.password?.toString("utf8");
    if ((username === undefined) !== (password === undefined)) {
      throw new CredentialsError(
        `invalid '${ns}/${name}' secret data: required fields 'username' and 'password' must both be set`,
      );
    }
    if (username !== undefined && password !== undefined) {
      out.username = username;
      out.password = password;
      out.secrets.push(username, password);
    }
    tls(data, "caFile", "certFile", "keyFile", `${ns}/${name}`);
  }
  if (repo.spec.certSecretRef) {
    const name = repo.spec.certSecretRef.name;
    const data = await read(client, ns, name, "TLS");
    tls(data, "ca.crt", "tls.crt", "tls.key", `${ns}/${name}`);
  }
  return out;
}
