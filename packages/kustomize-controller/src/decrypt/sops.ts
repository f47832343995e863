// Decryption through the pinned `sops` binary (as kustomize is driven): the encrypted bytes go to a temp file (sops
// cannot read the socket Node gives as stdin), the plaintext comes back on stdout and is never written here, the age
// identities are handed over in the environment (SOPS_AGE_KEY). sops sees no home, keyring or cloud credentials of
// the controller: only the keys of the Kustomization's decryption Secret can open a file. sops verifies the MAC
// itself (a changed value is refused).
//
// What sops prints on failure is never passed on: a message names the file and one of a few known causes.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KustomizationReasons } from "@capstan/api";
import { ReconcileError } from "@capstan/runtime";
import { execa } from "execa";
import { recipientsOf, type SopsFormat } from "./format.js";

export interface DecryptionKeys {
  /** age identities (the *.agekey values of the decryption Secret), newline separated; empty: none. */
  age: string;
  /** The armored OpenPGP keys (the *.asc values). */
  pgp: string[];
}

export interface SopsOptions {
  /** Path of the sops binary (--sops-path). */
  binary: string;
  /** Bound on one file's decryption. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Where the encrypted input is written for sops to read; the OS temp dir by default. */
  scratchDir?: string;
  /** The GnuPG home holding this build's OpenPGP keys (gnupg.ts); unset: OpenPGP files cannot be opened. */
  gnupgHome?: string;
}

/** A decryption failure: Ready=False reason DecryptionFailed, naming what failed, never its content. */
export function decryptionFailed(what: string, why: string): ReconcileError {
  return new ReconcileError(`decryption of ${what} failed: ${why}`, { reason: KustomizationReasons.DecryptionFailed });
}

/** Why sops failed, from its exit, in words that carry none of the file's content. */
export function causeOf(stderr: string): string {
  if (/MAC mismatch/i.test(stderr)) return "MAC mismatch: the file was changed after it was encrypted";
  if (/no MAC|MAC.*not found|could not find.*mac/i.test(stderr)) return "the file has no MAC";
  if (/data key|successful groups|no identity matched|no age identit|failed to decrypt/i.test(stderr))
    return "no key of the decryption Secret can decrypt it";
  if (/sops metadata not found|not.*encrypted/i.test(stderr)) return "sops metadata not found";
  return "sops could not decrypt it";
}

export class Sops {
  constructor(private readonly options: SopsOptions) {}

  /** The plaintext of one sops-encrypted content; `what` names it in errors (a file path or an object). */
  async decrypt(what: string, bytes: Buffer, format: SopsFormat, keys: DecryptionKeys): Promise<Buffer> {
    const recipients = recipientsOf(bytes);
    if (!recipients.age && !recipients.pgp)
      throw decryptionFailed(
        what,
        `it is encrypted for cloud KMS only (${recipients.kms.join(", ") || "no age or OpenPGP recipient"}): AWS KMS, GCP KMS, Azure Key Vault and Vault transit are not supported (Capstan)`,
      );
    const byAge = recipients.age && keys.age !== "";
    const byPgp = recipients.pgp && keys.pgp.length > 0 && this.options.gnupgHome !== undefined;
    if (!byAge && !byPgp)
      throw decryptionFailed(
        what,
        recipients.age
          ? "the decryption Secret holds no age key (*.agekey)"
          : "it is encrypted for OpenPGP and the decryption Secret holds no OpenPGP key (*.asc)",
      );
    // The encrypted bytes go through a file (sops cannot open the socket Node gives as stdin); the plaintext comes
    // back on stdout only.
    const dir = await mkdtemp(join(this.options.scratchDir ?? tmpdir(), "sops-"));
    const input = join(dir, `in.${format}`);
    try {
      await writeFile(input, bytes, { mode: 0o600 });
      return await this.run(what, input, format, keys);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async run(what: string, input: string, format: SopsFormat, keys: DecryptionKeys): Promise<Buffer> {
    const result = await execa(
      this.options.binary,
      ["--decrypt", "--input-type", format, "--output-type", format, input],
      {
        stdin: "ignore",
        encoding: "buffer",
        reject: false,
        timeout: this.options.timeoutMs ?? 30_000,
        ...(this.options.signal ? { cancelSignal: this.options.signal } : {}),
        maxBuffer: 64 * 1024 * 1024,
        extendEnv: false,
        env: {
          PATH: "/usr/bin:/bin",
          // No keys file, keyring or config of the controller's user: only the Secret's keys.
          HOME: "/nonexistent",
          XDG_CONFIG_HOME: "/nonexistent",
          GNUPGHOME: this.options.gnupgHome ?? "/nonexistent",
          SOPS_AGE_KEY: keys.age,
          // A file that also names a cloud KMS must not send sops to it (no credentials, no metadata service).
          AWS_EC2_METADATA_DISABLED: "true",
          HTTP_PROXY: "http://127.0.0.1:9",
          HTTPS_PROXY: "http://127.0.0.1:9",
          NO_PROXY: "",
        },
      },
    );
    if (result.failed) {
      if (result.timedOut) throw decryptionFailed(what, "sops timed out");
      if (result.isCanceled) throw decryptionFailed(what, "cancelled");
      const code = (result as { code?: string }).code;
      if (code === "ENOENT")
        throw decryptionFailed(what, `sops binary not found (${this.options.binary}, --sops-path)`);
      throw decryptionFailed(what, causeOf(Buffer.from(result.stderr).toString("utf8")));
    }
    return Buffer.from(result.stdout);
  }
}
