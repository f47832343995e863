// A real OpenSSH server for tests, on a free loopback port, accepting only the given public keys for the current
// user, with a generated host key (knownHosts gives the line for known_hosts). Needs Debian's openssh-server
// (`apt-get install -y openssh-server`); tests that need it skip when sshdAvailable() is false.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { delimiter, isAbsolute, join } from "node:path";
import { freePort } from "@capstan/cluster/process";
import { execa } from "execa";

export interface SshServer {
  port: number;
  user: string;
  /** ssh://user@127.0.0.1:port prefix; append an absolute repository path. */
  urlPrefix: string;
  /** The known_hosts line for this server's host key. */
  knownHosts: string;
  close(): Promise<void>;
}

/**
 * The sshd to run: $CAPSTAN_SSHD when set (a path that does not exist means "no sshd", to run the tests as on a machine
 * without openssh-server), else the first sshd on PATH, else Debian's /usr/sbin/sshd (often not on a user's PATH).
 * undefined when there is none: tests that need it skip, the others run.
 */
export function sshdBinary(): string | undefined {
  const override = process.env.CAPSTAN_SSHD;
  if (override !== undefined) return existsSync(override) ? override : undefined;
  const dirs = [...(process.env.PATH ?? "").split(delimiter).filter((d) => isAbsolute(d)), "/usr/sbin"];
  return dirs.map((d) => join(d, "sshd")).find((p) => existsSync(p));
}

export function sshdAvailable(): boolean {
  return sshdBinary() !== undefined;
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sshd exited with code ${child.exitCode}`);
    const open = await new Promise<boolean>((ok) => {
      const socket = createConnection({ port, host: "127.0.0.1" }, () => {
        socket.destroy();
        ok(true);
      });
      socket.on("error", () => ok(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`sshd did not listen on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startSshServer(authorizedKeys: readonly string[]): Promise<SshServer> {
  const sshd = sshdBinary();
  if (!sshd) {
    throw new Error(
      "sshd not found (CAPSTAN_SSHD, PATH, /usr/sbin): install Debian's openssh-server (apt-get install -y openssh-server)",
    );
  }
  const dir = await mkdtemp(join(tmpdir(), "capstan-sshd-"));
  await mkdir("/run/sshd", { recursive: true }).catch(() => undefined);
  const hostKey = join(dir, "host_ed25519");
  await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
  const authorized = join(dir, "authorized_keys");
  await writeFile(authorized, `${authorizedKeys.join("\n")}\n`, { mode: 0o600 });
  const port = await freePort();
  const user = userInfo().username;
  const config = join(dir, "sshd_config");
  await writeFile(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${authorized}`,
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "StrictModes no",
      "UsePAM no",
      "PrintMotd no",
      `AllowUsers ${user}`,
      "LogLevel ERROR",
      "",
    ].join("\n"),
  );
  // sshd re-executes itself, so it must be started by absolute path (sshdBinary() gives one).
  const child = spawn(sshd, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  try {
    await waitForPort(port, child);
  } catch (err) {
    child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
    throw new Error(`start sshd: ${stderr.trim()}`, { cause: err });
  }
  const pub = (await readFile(`${hostKey}.pub`, "utf8")).trim().split(/\s+/).slice(0, 2).join(" ");
  return {
    port,
    user,
    urlPrefix: `ssh://${user}@127.0.0.1:${port}`,
    knownHosts: `[127.0.0.1]:${port} ${pub}\n`,
    close: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
