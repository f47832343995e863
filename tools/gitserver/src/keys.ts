// Test keys: SSH key pairs (ssh-keygen) and PGP signing keys (gpg in a private GNUPGHOME).
import { chmod, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";

export interface SshKeyPair {
  privateKey: string;
  publicKey: string;
  /** Path of the private key file (for signing commits with gpg.format=ssh). */
  privateKeyPath: string;
}

export interface PgpKey {
  fingerprint: string;
  /** Armored public key, as stored under "<name>.asc" in a verification Secret. */
  publicKey: string;
  /** GNUPGHOME holding the secret key (for signing). */
  gnupgHome: string;
}

export interface KeyStore {
  dir: string;
  sshKey(options?: { passphrase?: string; type?: "ed25519" | "rsa" | "ecdsa" }): Promise<SshKeyPair>;
  pgpKey(name?: string): Promise<PgpKey>;
  dispose(): Promise<void>;
}

export async function createKeyStore(): Promise<KeyStore> {
  const dir = await mkdtemp(join(tmpdir(), "capstan-keys-"));
  let n = 0;
  const homes: string[] = [];
  return {
    dir,
    async sshKey(options = {}) {
      const path = join(dir, `ssh-${n++}`);
      const type = options.type ?? "ed25519";
      await execa("ssh-keygen", [
        "-q",
        "-t",
        type,
        ...(type === "rsa" ? ["-b", "2048"] : []),
        "-N",
        options.passphrase ?? "",
        "-C",
        "capstan-test",
        "-f",
        path,
      ]);
      return {
        privateKey: await readFile(path, "utf8"),
        publicKey: (await readFile(`${path}.pub`, "utf8")).trim(),
        privateKeyPath: path,
      };
    },
    async pgpKey(name = "Capstan Test") {
      const home = join(dir, `gnupg-${n++}`);
      await mkdir(home, { recursive: true });
      await chmod(home, 0o700);
      homes.push(home);
      const env = { GNUPGHOME: home };
      await execa(
        "gpg",
        ["--batch", "--passphrase", "", "--quick-gen-key", `${name} <test@capstan.dev>`, "ed25519", "sign", "never"],
        { env },
      );
      const list = await execa("gpg", ["--batch", "--with-colons", "--list-secret-keys"], { env });
      const fingerprint = /^fpr:+([0-9A-F]+):/m.exec(list.stdout)?.[1];
      if (!fingerprint) throw new Error("gpg: no fingerprint for the generated key");
      const exported = await execa("gpg", ["--batch", "--armor", "--export", fingerprint], { env });
      return { fingerprint, publicKey: exported.stdout, gnupgHome: home };
    },
    async dispose() {
      for (const home of homes) await execa("gpgconf", ["--kill", "all"], { env: { GNUPGHOME: home }, reject: false });
      await rm(dir, { recursive: true, force: true });
    },
  };
}
