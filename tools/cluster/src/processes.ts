import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";

/** A free TCP port on loopback. The port is released before use, so a rare race with another process is possible. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("freePort: no address"));
      });
    });
  });
}

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * A child process in its own process group (so stopping it also stops anything it spawned), logging to a file.
 * Every live group is remembered so that a dying parent can kill them synchronously on exit.
 */
export class ManagedProcess {
  readonly spec: ProcessSpec;
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);
  private static readonly live = new Set<number>();
  private static hooked = false;

  constructor(spec: ProcessSpec) {
    this.spec = spec;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    ManagedProcess.hookExit();
    const fd = openSync(this.spec.logFile, "a");
    try {
      const child = spawn(this.spec.command, this.spec.args, {
        detached: true,
        stdio: ["ignore", fd, fd],
        env: this.spec.env ?? process.env,
      });
      this.child = child;
      const pid = child.pid;
      if (pid === undefined) throw new Error(`start ${this.spec.name}: spawn failed`);
      ManagedProcess.live.add(pid);
      this.exited = new Promise((resolve) => {
        child.once("exit", (code) => {
          ManagedProcess.live.delete(pid);
          resolve(code);
        });
        child.once("error", () => {
          ManagedProcess.live.delete(pid);
          resolve(null);
        });
      });
    } finally {
      closeSync(fd);
    }
  }

  /** Waits for exit, or rejects when the timeout passes first. */
  async waitExit(timeoutMs: number): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.spec.name} did not exit in ${timeoutMs}ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM to the whole group, then SIGKILL after the grace period. */
  async stop(graceMs = 5000): Promise<void> {
    const pid = this.child?.pid;
    if (pid === undefined || !this.running) return;
    killGroup(pid, "SIGTERM");
    try {
      await this.waitExit(graceMs);
    } catch {
      killGroup(pid, "SIGKILL");
      await this.waitExit(graceMs).catch(() => undefined);
    }
    // Whatever the leader left behind in its group goes too.
    killGroup(pid, "SIGKILL");
  }

  /** The last lines of the log, for error messages. */
  logTail(lines = 25): string {
    try {
      return readFileSync(this.spec.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "";
    }
  }

  private static hookExit(): void {
    if (ManagedProcess.hooked) return;
    ManagedProcess.hooked = true;
    process.once("exit", () => {
      for (const pid of ManagedProcess.live) killGroup(pid, "SIGKILL");
    });
  }
}

export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
