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
 * `sops --encrypt --age <recipient> [args] <file>` on `content` written as `name` in a temp dir (so sops picks the
 * format from the extension, and no .sops.yaml of the checkout applies); returns the encrypted text.
 */
export async function sopsEncrypt(
  name: string,
  content: string,
  recipient: string,
  args: string[] = [],
): Promise<string> {
  const { bin } = await ensureBinaries();
  const dir = await mkdtemp(join(tmpdir(), "sops-test-"));
  try {
    await writeFile(join(dir, name), content);
    const { stdout } = await execa(bin.sops, ["--encrypt", "--age", recipient, ...args, name], {
      cwd: dir,
      extendEnv: false,
      env: { PATH: "/usr/bin:/bin", HOME: dir },
    });
    return stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
