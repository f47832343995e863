// Verification of commit and tag signatures (Flux's modes HEAD, Tag, TagAndHEAD) with the keys of a Secret: PGP
// keys under "*.asc" are imported into a throwaway GNUPGHOME for gpg, SSH public keys under "*.sshpub" become an
// allowed-signers file for `ssh-keygen -Y verify`. git drives both tools through verify-commit / verify-tag.
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VerificationError } from "../errors.js";
import type { SecretData } from "../git/auth.js";
import type { CheckoutResult } from "../git/checkout.js";

// execa is imported on the first verification only: most GitRepositories verify nothing, and the import costs the
// controller 3 MiB of resident memory (bench/peer/README.md, "source-controller memory").
async function run(file: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string; timeout?: number }) {
  const { execa } = await import("execa");
  return execa(file, args, { ...options, extendEnv: false, reject: false });
}

export type VerificationMode = "HEAD" | "head" | "Tag" | "TagAndHEAD";

export function normalizeMode(mode: string | undefined): "HEAD" | "Tag" | "TagAndHEAD" {
  return mode === "Tag" || mode === "TagAndHEAD" ? mode : "HEAD";
}

export interface VerifyOptions {
  timeoutMs?: number;
  /** Short tag name for messages when the reference is a tag. */
  tagName?: string;
}

interface Keyring {
  env: Record<string, string>;
  dispose(): Promise<void>;
}

async function openKeyring(keys: SecretData, timeoutMs: number): Promise<Keyring> {
  const dir = await mkdtemp(join(tmpdir(), "capstan-verify-"));
  await chmod(dir, 0o700);
  const gnupg = join(dir, "gnupg");
  await mkdir(gnupg, { mode: 0o700 });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir,
    LANG: "C",
    LC_ALL: "C",
    GNUPGHOME: gnupg,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
  };
  try {
    const signers: string[] = [];
    let pgp = 0;
    for (const [name, value] of Object.entries(keys)) {
      if (name.endsWith(".asc")) {
        const file = join(dir, `key-${pgp++}.asc`);
        await writeFile(file, value, { mode: 0o600 });
        const res = await run("gpg", ["--batch", "--no-tty", "--import", file], { env, timeout: timeoutMs });
        if (res.failed) throw new VerificationError(`cannot import PGP key '${name}' from the verification Secret`);
      } else if (name.endsWith(".sshpub")) {
        for (const line of value.toString("utf8").split("\n")) {
          const key = line.trim();
          if (key && !key.startsWith("#")) signers.push(`* namespaces="git" ${key}`);
        }
      }
    }
    if (pgp === 0 && signers.length === 0) {
      throw new VerificationError(
        "the verification Secret holds no keys: put PGP keys under '<name>.asc' and SSH keys under '<name>.sshpub'",
        { stalling: true },
      );
    }
    const allowed = join(dir, "allowed_signers");
    await writeFile(allowed, `${signers.join("\n")}\n`, { mode: 0o600 });
    Object.assign(env, {
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "gpg.ssh.allowedSignersFile",
      GIT_CONFIG_VALUE_0: allowed,
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    env,
    dispose: async () => {
      // gpg-agent may have been started by the import; stop it so no process outlives the keyring.
      await run("gpgconf", ["--kill", "all"], { env });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The signer named in git's --raw output: a PGP fingerprint/key id, or an SSH key fingerprint. */
export function signerOf(output: string): string | undefined {
  const validsig = /\[GNUPG:\] VALIDSIG (\S+)/.exec(output);
  if (validsig) return validsig[1];
  const goodsig = /\[GNUPG:\] GOODSIG (\S+)/.exec(output);
  if (goodsig) return goodsig[1];
  const ssh = /with \S+ key (SHA256:\S+)/.exec(output);
  return ssh?.[1];
}

async function verifyObject(
  keyring: Keyring,
  dir: string,
  what: "commit" | "tag",
  object: string,
  label: string,
  timeoutMs: number,
): Promise<string> {
  const res = await run("git", [what === "commit" ? "verify-commit" : "verify-tag", "--raw", object], {
    cwd: dir,
    env: keyring.env,
    timeout: timeoutMs,
  });
  const output = `${res.stdout}\n${res.stderr}`;
  if (res.failed) {
    const unsigned = !/GNUPG|signature|Signature/.test(output);
    const why = res.timedOut
      ? "timed out"
      : unsigned
        ? `the ${what} is not signed`
        : /No principal matched|NO_PUBKEY|ERRSIG|Could not verify/.test(output)
          ? "no key in the verification Secret matches the signature"
          : "the signature is invalid";
    throw new VerificationError(`signature verification of ${what} '${label}' failed: ${why}`);
  }
  return signerOf(output) ?? "unknown";
}

/**
 * Verifies the checkout per the mode and returns Flux's SourceVerified message. Throws VerificationError (condition
 * SourceVerified=False, reason VerificationError) when a signature is missing, invalid, or from an unknown key.
 */
export async function verifyCheckout(
  checkout: CheckoutResult,
  mode: string | undefined,
  keys: SecretData,
  options: VerifyOptions = {},
): Promise<string> {
  const m = normalizeMode(mode);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const isTag = checkout.reference.startsWith("refs/tags/");
  if ((m === "Tag" || m === "TagAndHEAD") && !isTag) {
    throw new VerificationError(`cannot verify tag signature: spec.ref does not select a tag (mode '${m}')`, {
      stalling: true,
    });
  }
  const keyring = await openKeyring(keys, timeoutMs);
  try {
    const lines: string[] = [];
    const tag = checkout.reference.slice("refs/tags/".length);
    if (m === "Tag" || m === "TagAndHEAD") {
      if (!checkout.tagObject) {
        throw new VerificationError(
          `signature verification of tag '${tag}' failed: it is a lightweight tag without a signature`,
        );
      }
      const key = await verifyObject(keyring, checkout.dir, "tag", checkout.tagObject, tag, timeoutMs);
      lines.push(`tag '${tag}@sha1:${checkout.tagObject}' with key '${key}'`);
    }
    if (m === "HEAD" || m === "TagAndHEAD") {
      const key = await verifyObject(keyring, checkout.dir, "commit", checkout.commit, checkout.revision, timeoutMs);
      lines.push(`commit '${checkout.revision}' with key '${key}'`);
    }
    return `verified signature of\n${lines.map((l) => `\t- ${l}`).join("\n")}`;
  } finally {
    await keyring.dispose();
  }
}
