// Reads the Secrets a GitRepository names. A missing or unreadable Secret is an AuthenticationFailed fetch failure,
// as in Flux; the message names the Secret, never its contents.
import type { Client } from "@capstan/runtime";
import { GitError } from "../errors.js";
import { decodeSecretData, type SecretData } from "../git/auth.js";

export async function readSecret(
  client: Client,
  namespace: string,
  name: string,
  purpose: string,
): Promise<SecretData> {
  let secret: { data?: Record<string, string> } | undefined;
  try {
    secret = (await client.get({ apiVersion: "v1", kind: "Secret", namespace, name })) as
      | { data?: Record<string, string> }
      | undefined;
  } catch (cause) {
    throw new GitError("credentials", `failed to get ${purpose} secret '${namespace}/${name}'`, { cause });
  }
  if (!secret) throw new GitError("credentials", `${purpose} secret '${namespace}/${name}' not found`);
  return decodeSecretData(secret.data);
}
