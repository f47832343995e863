// Test helpers: keys from the real age-keygen and files encrypted by the real, pinned `sops --encrypt`, as a user
// makes them (README, "Secrets").
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBinaries } from "@capstan/cluster";
import { execa } from "execa";

export interface AgeKey {
  /** The key file's content (comments and AGE-SECRET-KEY-...), what goes in the Secret under `<name>.agekey`. */
  identity: string;
  /** age1... */
  recipient: string;
}

export async function ageKeygen(): Promise<AgeKey> {
  const { bin } = await ensureBinaries();
  const { stdout } = await execa(bin["age-keygen"], []);
  const recipient = /public key: (age1[a-z0-9]+)/.exec(stdout)?.[1];
  if (!recipient) throw new Error("age-keygen printed no public key");
  return { identity: stdout, recipient };
}

/**
 * `sops --encrypt --age <recipient> [args] <file>` (no --age when recipient is empty; `gnupgHome` for --pgp) on `content` written as `name` in a temp dir (so sops picks the
 * format from the extension, and no .sops.yaml of the checkout applies); returns the encrypted text.
 */
export async function sopsEncrypt(
  name: string,
  content: string,
  recipient: string,
  args: string[] = [],
  gnupgHome?: string,
): Promise<string> {
  const { bin } = await ensureBinaries();
  const dir = await mkdtemp(join(tmpdir(), "sops-test-"));
  try {
    await writeFile(join(dir, name), content);
    const recipientArgs = recipient ? ["--age", recipient] : [];
    const { stdout } = await execa(bin.sops, ["--encrypt", ...recipientArgs, ...args, name], {
      cwd: dir,
      extendEnv: false,
      env: { PATH: "/usr/bin:/bin", HOME: dir, ...(gnupgHome ? { GNUPGHOME: gnupgHome } : {}) },
    });
    return stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface PgpKey {
  fingerprint: string;
  /** The armored secret key, what goes in the Secret under `<name>.asc`. */
  armored: string;
  /** A GnuPG home holding the key, for sops --encrypt --pgp. */
  home: string;
  close(): Promise<void>;
}

/** A new OpenPGP key without passphrase (gpg --quick-gen-key), in a GnuPG home of its own. */
export async function pgpKey(): Promise<PgpKey> {
  const home = await mkdtemp(join(tmpdir(), "gpg-test-"));
  const env = { PATH: "/usr/bin:/bin", HOME: home };
  const gpg = (args: string[]) => execa("gpg", ["--batch", "--homedir", home, ...args], { extendEnv: false, env });
  await gpg([
    "--passphrase",
    "",
    "--quick-gen-key",
    "capstan-test <test@capstan.invalid>",
    "default",
    "default",
    "never",
  ]);
  const { stdout } = await gpg(["--list-secret-keys", "--with-colons"]);
  const fingerprint = /^fpr:+([0-9A-F]+):/m.exec(stdout)?.[1];
  if (!fingerprint) throw new Error("gpg printed no fingerprint");
  const armored = (await gpg(["--armor", "--export-secret-keys", fingerprint])).stdout;
  return {
    fingerprint,
    armored,
    home,
    close: async () => {
      await execa("gpgconf", ["--homedir", home, "--kill", "all"], { reject: false, extendEnv: false, env });
      await rm(home, { recursive: true, force: true });
    },
  };
}
