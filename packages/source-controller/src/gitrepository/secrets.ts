// Reads the Secrets a GitRepository names, with the runtime's Secret reader. A missing or unreadable Secret is an
// AuthenticationFailed fetch failure, as in Flux; the message names the Secret, never its contents.
import { type Client, readSecretData, SecretReadError } from "@capstan/runtime";
import { GitError } from "../errors.js";
import type { SecretData } from "../git/auth.js";

export async function readSecret(
  client: Client,
  namespace: string,
  name: string,
  purpose: string,
): Promise<SecretData> {
  try {
    return await readSecretData(client, { namespace, name }, purpose);
  } catch (err) {
    if (!(err instanceof SecretReadError)) throw err;
    throw new GitError("credentials", err.message, err.cause === undefined ? {} : { cause: err.cause });
  }
}
