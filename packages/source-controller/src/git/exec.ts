// Runs the system git binary for a session. Output is captured (never streamed to logs) and failures become GitErrors.
import { execa } from "execa";
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

export async function runGit(session: GitSession, args: string[], options: RunOptions = {}): Promise<string> {
  const operation = options.operation ?? `git ${args[0] ?? ""}`.trim();
  // git hands the transport to helpers (git-remote-https, ssh) that keep the output pipes open: on timeout or cancel
  // the whole process group must go, or we would wait on the pipes forever.
  const subprocess = execa(options.gitBinary ?? "git", args, {
    cwd: options.cwd,
    env: options.env ? { ...session.env, ...options.env } : session.env,
    extendEnv: false,
    reject: false,
    stdin: "ignore",
    detached: true,
    cleanup: true,
    stripFinalNewline: false,
    maxBuffer: 64 * 1024 * 1024,
  });
  let timedOut = false;
  let canceled = false;
  const killGroup = () => {
    if (subprocess.pid !== undefined) {
      try {
        process.kill(-subprocess.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  };
  const timer =
    options.timeoutMs && options.timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          killGroup();
        }, options.timeoutMs)
      : undefined;
  const onAbort = () => {
    canceled = true;
    killGroup();
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  let result: Awaited<typeof subprocess>;
  try {
    result = await subprocess;
  } finally {
    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }
  if (canceled) throw gitFailure(`${operation}: canceled`, "", session.secrets);
  if (result.failed || timedOut) {
    const stderr = typeof result.stderr === "string" ? result.stderr : "";
    const missing = result.code === "ENOENT" ? "git binary not found on PATH" : "";
    throw gitFailure(operation, stderr || missing, session.secrets, { timedOut, timeoutMs: options.timeoutMs ?? 0 });
  }
  return typeof result.stdout === "string" ? result.stdout : "";
}
