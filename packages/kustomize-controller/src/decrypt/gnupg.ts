// OpenPGP keys (*.asc) for one build: imported into a GnuPG home of their own (a 0700 temp dir), which sops's gpg
// uses, and which goes away with its agent when the build ends. The controller's own keyring is never used.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { decryptionFailed } from "./sops.js";

const env = { PATH: "/usr/bin:/bin", HOME: "/nonexistent" };

export interface GnupgHome {
  path: string;
  close(): Promise<void>;
}

/** A GnuPG home holding `armored` (the *.asc values); close() stops its agent and removes it. */
export async function openGnupgHome(armored: readonly string[], scratchDir?: string): Promise<GnupgHome> {
  const path = await mkdtemp(join(scratchDir ?? tmpdir(), "gpg-"));
  const close = async () => {
    await execa("gpgconf", ["--homedir", path, "--kill", "all"], { reject: false, extendEnv: false, env });
    await rm(path, { recursive: true, force: true });
  };
  try {
    for (const [i, key] of armored.entries()) {
      const r = await execa("gpg", ["--batch", "--homedir", path, "--import"], {
        input: key,
        reject: false,
        timeout: 30_000,
        extendEnv: false,
        env,
      });
      if (r.failed) {
        const missing = (r as { code?: string }).code === "ENOENT";
        throw decryptionFailed(
          `OpenPGP key ${i + 1} of the decryption Secret`,
          missing ? "gpg is not installed on the controller's PATH" : "gpg could not import it",
        );
      }
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { path, close };
}
