// One way to read Secrets, for every controller (Flux's pkg/runtime/secrets): a Secret named by a reference, read
// through the client or an informer's cache, its data decoded. Errors name the Secret, never its content.
import type { Cache, Client, KubeObject, ResourceType } from "../contracts.js";

export const secretType: ResourceType = {
  group: "",
  version: "v1",
  kind: "Secret",
  plural: "secrets",
  namespaced: true,
};

/** A core/v1 Secret as JSON: `data` values are base64. */
export interface SecretObject extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

/** A Secret's data, decoded: bytes per key. */
export type SecretData = Record<string, Buffer>;

export interface SecretRef {
  namespace: string;
  name: string;
}

/** `data` of a Secret with its base64 values decoded to bytes (keys, certificates). */
export function decodeSecretData(data: Readonly<Record<string, string>> | undefined): SecretData {
  const out: SecretData = {};
  for (const [key, value] of Object.entries(data ?? {})) out[key] = Buffer.from(value, "base64");
  return out;
}

/** `data` of a Secret with its base64 values decoded as UTF-8 text (tokens, addresses, passwords). */
export function decodeSecretStrings(data: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(data ?? {})) out[key] = Buffer.from(value, "base64").toString("utf8");
  return out;
}

/** A Secret that could not be read: `notFound` when it does not exist, else the read failed (the cause says why). */
export class SecretReadError extends Error {
  readonly notFound: boolean;
  constructor(message: string, options: { notFound: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SecretReadError";
    this.notFound = options.notFound;
  }
}

/**
 * Reads a Secret through the client (a GET: for controllers that do not cache Secrets). `purpose` says what it is for
 * in the error ("authentication" → "authentication secret 'ns/name' not found").
 */
export async function readSecret(client: Pick<Client, "get">, ref: SecretRef, purpose: string): Promise<SecretObject> {
  const what = `${purpose} secret '${ref.namespace}/${ref.name}'`;
  let secret: SecretObject | undefined;
  try {
    secret = await client.get<SecretObject>({ apiVersion: "v1", kind: "Secret", ...ref });
  } catch (cause) {
    throw new SecretReadError(`failed to get ${what}`, { notFound: false, cause });
  }
  if (!secret) throw new SecretReadError(`${what} not found`, { notFound: true });
  return secret;
}

/** Reads a Secret from an informer's cache of Secrets; errors as readSecret's. */
export function cachedSecret(cache: Cache<SecretObject>, ref: SecretRef, purpose: string): SecretObject {
  const secret = cache.get(`${ref.namespace}/${ref.name}`);
  if (!secret)
    throw new SecretReadError(`${purpose} secret '${ref.namespace}/${ref.name}' not found`, { notFound: true });
  return secret;
}

/** readSecret, decoded to bytes. */
export async function readSecretData(
  client: Pick<Client, "get">,
  ref: SecretRef,
  purpose: string,
): Promise<SecretData> {
  return decodeSecretData((await readSecret(client, ref, purpose)).data);
}
