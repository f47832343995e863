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
}

export async function runGit(session: GitSession, args: string[], options: RunOptions = {}): Promise<string> {
  const operation = options.operation ?? `git ${args[0] ?? ""}`.trim();
  const result = await execa(options.gitBinary ?? "git", args, {
    cwd: options.cwd,
    env: session.env,
    extendEnv: false,
    reject: false,
    stdin: "ignore",
    timeout: options.timeoutMs,
    cancelSignal: options.signal,
    forceKillAfterDelay: 2_000,
    stripFinalNewline: false,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.failed) {
    const stderr = typeof result.stderr === "string" ? result.stderr : "";
    if (result.isCanceled) throw gitFailure(`${operation}: canceled`, "", session.secrets);
    throw gitFailure(
      operation,
      stderr || (result.code === "ENOENT" ? "git binary not found on PATH" : ""),
      session.secrets,
      {
        timedOut: result.timedOut,
        timeoutMs: options.timeoutMs ?? 0,
      },
    );
  }
  return typeof result.stdout === "string" ? result.stdout : "";
}
