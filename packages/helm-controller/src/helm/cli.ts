// Runs the pinned helm binary, bounded: its own process group killed at the deadline or on cancel, stdout and stderr
// capped, an environment of its own (no inherited proxies, credentials or plugins; HOME and Helm's directories in the
// reconcile's scratch directory). What reaches a message is stderr's last lines with the scratch directory and every
// secret value (valuesFrom Secrets) replaced, so neither paths nor credentials leave the process.
import { execa } from "execa";

export interface HelmRunOptions {
  /** The helm binary. */
  binary: string;
  /** Scratch directory of this reconcile: HOME and Helm's cache, config and data live there. */
  workDir: string;
  /** Kills the child after this long (the action's own --timeout plus a grace period). */
  deadlineMs: number;
  /** How helm reaches the cluster: extra environment (in-cluster service variables) besides the args. */
  env?: Record<string, string>;
  signal?: AbortSignal;
  /** Strings never to show in a message (secret values); replaced by "***". */
  redact?: readonly string[];
  /** Bytes of stdout kept (default 4 MiB): enough for `-o json` of a status, not a chart. */
  maxStdoutBytes?: number;
  /**
   * Where client-go keeps the cluster's discovery (KUBECACHEDIR), shared by the helm commands that reach the
   * controller's own cluster, so each fork does not fetch and write it again; default: in the scratch directory.
   */
  kubeCacheDir?: string;
  /** Called in the child's exit event (it has just been reaped): where its CPU is read (telemetry.ts). */
  onExit?: () => void;
}

export interface HelmRunResult {
  stdout: string;
}

/** A helm command that exited non-zero, timed out or was cancelled; the message is safe to show. */
export class HelmCommandError extends Error {
  constructor(
    message: string,
    readonly timedOut: boolean,
  ) {
    super(message);
    this.name = "HelmCommandError";
  }
}

const liveGroups = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // ESRCH: gone already.
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const pid of liveGroups) killGroup(pid);
  });
}

/** Replaces the scratch dir and every secret value in text; keeps the last 2 KiB (helm puts the cause last). */
export function cleanMessage(text: string, workDir: string, redact: readonly string[] = []): string {
  let out = text.replaceAll(workDir, ".");
  // Longest first, so a value that contains another is replaced whole.
  for (const value of [...redact].sort((a, b) => b.length - a.length)) {
    if (value.length >= 3) out = out.replaceAll(value, "***");
  }
  out = out
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l !== "")
    .join("\n")
    .trim();
  return out.length > 2048 ? `…${out.slice(-2048)}` : out;
}

export async function runHelm(args: readonly string[], options: HelmRunOptions): Promise<HelmRunResult> {
  installExitHook();
  const { workDir } = options;
  const child = execa(options.binary, args, {
    cwd: workDir,
    detached: true,
    stdin: "ignore",
    extendEnv: false,
    env: {
      PATH: "/usr/bin:/bin",
      HOME: workDir,
      HELM_CACHE_HOME: `${workDir}/.cache`,
      HELM_CONFIG_HOME: `${workDir}/.config`,
      HELM_DATA_HOME: `${workDir}/.data`,
      HELM_PLUGINS: `${workDir}/.plugins`,
      HELM_NO_PLUGINS: "1",
      ...(options.kubeCacheDir ? { KUBECACHEDIR: options.kubeCacheDir } : {}),
      ...options.env,
    },
    maxBuffer: { stdout: options.maxStdoutBytes ?? 4 * 1024 * 1024, stderr: 256 * 1024 },
    stripFinalNewline: false,
    reject: true,
  });
  const pid = child.pid;
  if (pid !== undefined) liveGroups.add(pid);
  if (options.onExit) child.nodeChildProcess.once("exit", options.onExit);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    if (pid !== undefined) killGroup(pid);
  }, options.deadlineMs);
  const onAbort = () => {
    if (pid !== undefined) killGroup(pid);
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  try {
    const result = await child;
    return { stdout: String(result.stdout) };
  } catch (cause) {
    const e = cause as { stderr?: unknown; shortMessage?: string; isMaxBuffer?: boolean };
    if (timedOut) {
      throw new HelmCommandError(
        `helm ${args[0]} did not finish within ${Math.round(options.deadlineMs / 1000)}s`,
        true,
      );
    }
    if (options.signal?.aborted) throw new HelmCommandError(`helm ${args[0]} canceled`, false);
    if (e.isMaxBuffer) throw new HelmCommandError(`helm ${args[0]} wrote more output than allowed`, false);
    const stderr = typeof e.stderr === "string" ? e.stderr : "";
    const detail = cleanMessage(stderr, workDir, options.redact) || `helm ${args[0]} failed`;
    throw new HelmCommandError(detail.replace(/^Error: /, ""), false);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    if (pid !== undefined) {
      killGroup(pid);
      liveGroups.delete(pid);
    }
  }
}
