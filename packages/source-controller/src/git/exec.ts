// Runs the system git binary for a session. Output is captured (never streamed to logs) and failures become GitErrors.
// (Capstan) node:child_process rather than execa: every GitRepository reconcile runs git, and execa's import alone
// cost the controller 3 MiB of resident memory (bench/peer/README.md, "source-controller memory").
import { spawn } from "node:child_process";
import { gitFailure } from "./classify.js";
import type { GitSession } from "./session.js";

export interface RunOptions {
  cwd?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Describes the operation in error messages, e.g. "git fetch". */
  operation?: string;
  gitBinary?: string;
  /** Variables added to the session's environment for this process (e.g. GIT_INDEX_FILE). */
  env?: Record<string, string>;
}

/** Largest stdout or stderr kept from one git process; more fails the operation (ls-remote of a huge remote). */
export const maxOutputBytes = 64 * 1024 * 1024;

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The spawn's own error code (ENOENT: no git binary), or "overflow" when the output passed maxOutputBytes. */
  error?: string;
}

// Process groups of the git processes running now, killed if the controller exits first (a detached child outlives
// its parent otherwise). One exit listener for all of them.
const running = new Set<number>();
let exitHookInstalled = false;
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}
function track(pid: number | undefined): void {
  if (pid === undefined) return;
  running.add(pid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const p of running) killGroup(p);
    });
  }
}

function collect(stream: NodeJS.ReadableStream | null, onOverflow: () => void): () => string {
  const chunks: Buffer[] = [];
  let size = 0;
  stream?.on("data", (chunk: Buffer) => {
    if (size > maxOutputBytes) return;
    size += chunk.length;
    if (size > maxOutputBytes) onOverflow();
    else chunks.push(chunk);
  });
  return () => Buffer.concat(chunks).toString("utf8");
}

function spawnGit(binary: string, args: string[], cwd: string | undefined, env: NodeJS.ProcessEnv) {
  // git hands the transport to helpers (git-remote-https, ssh) that keep the output pipes open: the child leads its
  // own process group so that a timeout or cancel can kill all of it.
  const child = spawn(binary, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let error: string | undefined;
  const done = new Promise<Exit>((resolve) => {
    const stdout = collect(child.stdout, () => {
      error = "overflow";
      killGroup(child.pid);
    });
    const stderr = collect(child.stderr, () => {
      error = "overflow";
      killGroup(child.pid);
    });
    child.once("error", (err: NodeJS.ErrnoException) => {
      error ??= err.code ?? "spawn failed";
      // No 'close' follows a failed spawn when no pipe was opened; resolve here too (a second resolve is ignored).
      if (child.pid === undefined) resolve({ code: null, stdout: "", stderr: "", error });
    });
    child.once("close", (code) => {
      if (child.pid !== undefined) running.delete(child.pid);
      resolve({ code, stdout: stdout(), stderr: stderr(), ...(error ? { error } : {}) });
    });
  });
  track(child.pid);
  return { pid: child.pid, done };
}

export async function runGit(session: GitSession, args: string[], options: RunOptions = {}): Promise<string> {
  const operation = options.operation ?? `git ${args[0] ?? ""}`.trim();
  const env = options.env ? { ...session.env, ...options.env } : session.env;
  const subprocess = spawnGit(options.gitBinary ?? "git", args, options.cwd, env);
  let timedOut = false;
  let canceled = false;
  const timer =
    options.timeoutMs && options.timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          killGroup(subprocess.pid);
        }, options.timeoutMs)
      : undefined;
  const onAbort = () => {
    canceled = true;
    killGroup(subprocess.pid);
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  let result: Exit;
  try {
    result = await subprocess.done;
  } finally {
    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }
  if (canceled) throw gitFailure(`${operation}: canceled`, "", session.secrets);
  if (result.code !== 0 || result.error || timedOut) {
    const reason =
      result.error === "ENOENT"
        ? "git binary not found on PATH"
        : result.error === "overflow"
          ? `git printed more than ${maxOutputBytes} bytes`
          : "";
    throw gitFailure(operation, result.stderr || reason, session.secrets, {
      timedOut,
      timeoutMs: options.timeoutMs ?? 0,
    });
  }
  return result.stdout;
}
